DROP INDEX `audit_tenant_run_idx`;--> statement-breakpoint
CREATE INDEX `audit_tenant_action_idx` ON `audit_log` (`tenant_id`,`action`,`at`);--> statement-breakpoint
CREATE INDEX `audit_tenant_run_idx` ON `audit_log` (`tenant_id`,`run_id`,`at`);