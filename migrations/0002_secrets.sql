CREATE TABLE `env_secret_usage` (
	`tenant_id` text NOT NULL,
	`key` text NOT NULL,
	`last_used_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `env_secret_usage_unique` ON `env_secret_usage` (`tenant_id`,`key`);--> statement-breakpoint
CREATE TABLE `secrets` (
	`tenant_id` text NOT NULL,
	`key` text NOT NULL,
	`version` integer NOT NULL,
	`key_id` text NOT NULL,
	`iv` text NOT NULL,
	`ciphertext` text NOT NULL,
	`created_at` integer NOT NULL,
	`rotated_at` integer,
	`last_used_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `secrets_tenant_key_version_unique` ON `secrets` (`tenant_id`,`key`,`version`);--> statement-breakpoint
CREATE INDEX `secrets_key_id_idx` ON `secrets` (`key_id`);