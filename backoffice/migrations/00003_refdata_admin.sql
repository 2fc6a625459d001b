-- Reference data managed by `venue admin`: the running venue reads firms,
-- accounts and FIX sessions from these tables (server/refdata.go), so a
-- drop-copy session's choice of TradeCaptureReports is stored too.

-- +goose Up
ALTER TABLE fix_sessions ADD COLUMN trade_capture_reports boolean NOT NULL DEFAULT false;
CREATE INDEX audit_log_target ON audit_log (target, at);

-- +goose Down
DROP INDEX audit_log_target;
ALTER TABLE fix_sessions DROP COLUMN trade_capture_reports;
