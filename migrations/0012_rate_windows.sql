CREATE TABLE `rate_windows` (
	`key` text PRIMARY KEY NOT NULL,
	`count` integer NOT NULL,
	`resets_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rate_windows_resets_idx` ON `rate_windows` (`resets_at`);--> statement-breakpoint
-- Windows still running carry over, so this deploy resets nobody's count (an attacker's
-- neither); expired rows go with the old tables. Window lengths as the code has them:
-- 15 minutes for sign-ins and mailed links, one minute for copilot drafts.
INSERT INTO `rate_windows` (`key`, `count`, `resets_at`)
  SELECT 'login:' || `key`, `failures`, `window_start` + 900000 FROM `login_attempts`
  WHERE `window_start` + 900000 > unixepoch('subsec') * 1000;--> statement-breakpoint
INSERT INTO `rate_windows` (`key`, `count`, `resets_at`)
  SELECT 'mail:' || `key`, `sends`, `window_start` + 900000 FROM `mail_send_counters`
  WHERE `window_start` + 900000 > unixepoch('subsec') * 1000;--> statement-breakpoint
INSERT INTO `rate_windows` (`key`, `count`, `resets_at`)
  SELECT 'copilot:tenant:' || `tenant_id`, `drafts`, `window_start` + 60000 FROM `copilot_usage`
  WHERE `window_start` + 60000 > unixepoch('subsec') * 1000;--> statement-breakpoint
DROP TABLE `copilot_usage`;--> statement-breakpoint
DROP TABLE `login_attempts`;--> statement-breakpoint
DROP TABLE `mail_send_counters`;