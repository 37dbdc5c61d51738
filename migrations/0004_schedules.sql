CREATE TABLE `workflow_schedules` (
	`workflow_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`version` integer NOT NULL,
	`cron` text NOT NULL,
	`timezone` text DEFAULT 'UTC' NOT NULL,
	`next_fire_at` integer,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workflow_id`) REFERENCES `workflows`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `workflow_schedules_due_idx` ON `workflow_schedules` (`next_fire_at`);--> statement-breakpoint
CREATE INDEX `workflow_schedules_tenant_idx` ON `workflow_schedules` (`tenant_id`);--> statement-breakpoint
-- Backfill: every workflow whose active version is a schedule today. Versions before this
-- migration had no time zone (UTC). next_fire_at = 0 means "not computed yet": the next
-- minute computes it from the cron without firing. A definition that is not valid JSON
-- (json_valid guards json_extract; CASE evaluates lazily) is left out rather than failing the migration.
INSERT INTO `workflow_schedules` (`workflow_id`, `tenant_id`, `version`, `cron`, `timezone`, `next_fire_at`, `updated_at`)
SELECT w.`id`, w.`tenant_id`, w.`active_version`, json_extract(v.`definition`, '$.trigger.cron'), 'UTC', 0, CAST(unixepoch('subsec') * 1000 AS integer)
FROM `workflows` w
JOIN `workflow_versions` v ON v.`workflow_id` = w.`id` AND v.`version` = w.`active_version` AND v.`tenant_id` = w.`tenant_id`
WHERE CASE WHEN json_valid(v.`definition`)
  THEN json_extract(v.`definition`, '$.trigger.type') = 'schedule' AND json_type(v.`definition`, '$.trigger.cron') = 'text'
  ELSE 0 END;
