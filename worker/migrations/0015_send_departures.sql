-- When the call of each send slot actually left (epoch ms; NULL until recorded, or for a slot given up before it is
-- deleted). A booking comes a window after the departure of the slot rps back, so a call that leaves late delays the
-- calls after it only by its lateness (worker/notices/engine/rate.ts, README "Benchmarks").
ALTER TABLE send_log ADD COLUMN departed_ms INTEGER;
