DROP INDEX `webhook_events_tenant_idx`;--> statement-breakpoint
CREATE INDEX `webhook_events_tenant_received_idx` ON `webhook_events` (`tenant_id`,`received_at`);--> statement-breakpoint
ALTER TABLE `tenants` ADD `run_retention_days` integer;