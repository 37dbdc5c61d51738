CREATE TABLE `copilot_usage` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`window_start` integer NOT NULL,
	`drafts` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
