CREATE TABLE `run_steps` (
	`tenant_id` text NOT NULL,
	`run_id` text NOT NULL,
	`step_id` text NOT NULL,
	`type` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`attempt_log` text,
	`input` text,
	`output` text,
	`error` text,
	`started_at` integer,
	`finished_at` integer,
	`seq` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `run_steps_pk` ON `run_steps` (`run_id`,`step_id`);--> statement-breakpoint
CREATE INDEX `run_steps_tenant_idx` ON `run_steps` (`tenant_id`,`run_id`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`workflow_id` text NOT NULL,
	`workflow_key` text NOT NULL,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`trigger_type` text NOT NULL,
	`trigger_ref` text,
	`error` text,
	`retry_of` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`workflow_id`) REFERENCES `workflows`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `runs_tenant_created_idx` ON `runs` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `runs_tenant_status_idx` ON `runs` (`tenant_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `runs_tenant_workflow_idx` ON `runs` (`tenant_id`,`workflow_key`,`created_at`);--> statement-breakpoint
CREATE TABLE `schedule_slots` (
	`tenant_id` text NOT NULL,
	`workflow_id` text NOT NULL,
	`slot` integer NOT NULL,
	`run_id` text NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`workflow_id`) REFERENCES `workflows`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `schedule_slots_unique` ON `schedule_slots` (`workflow_id`,`slot`);--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`workflow_id` text NOT NULL,
	`delivery_id` text NOT NULL,
	`run_id` text NOT NULL,
	`headers` text NOT NULL,
	`body` text NOT NULL,
	`received_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`workflow_id`) REFERENCES `workflows`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_events_delivery_unique` ON `webhook_events` (`workflow_id`,`delivery_id`);--> statement-breakpoint
CREATE INDEX `webhook_events_tenant_idx` ON `webhook_events` (`tenant_id`);