ALTER TABLE `runs` ADD `trigger` text;--> statement-breakpoint
ALTER TABLE `webhook_events` DROP COLUMN `headers`;--> statement-breakpoint
ALTER TABLE `webhook_events` DROP COLUMN `body`;