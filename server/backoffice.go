package server

import (
	"fmt"
	"time"

	"venue/backoffice"
	"venue/config"
)

// backOfficeBuffer is the projector's subscription buffer in commands: a
// database pause this long (in commands) is absorbed; beyond it the
// projector is dropped and catches up from the journal.
const backOfficeBuffer = 1 << 17

// backOfficeDrain bounds how long Close waits for the projector to write
// what the sequencer published before it stopped.
const backOfficeDrain = 10 * time.Second

// startBackOffice starts the PostgreSQL projection on its own
// subscription: migrate, bootstrap the reference data, catch up from the
// journal, follow the sequencer. Unless database.required, a database
// that does not answer only leaves the back office unavailable (logged,
// BackOffice.Status says so) while the service retries.
func (s *Server) startBackOffice(cfg *config.Config) error {
	svc, err := backoffice.StartService(backoffice.ServiceConfig{
		URL:              cfg.Database.URL,
		Required:         cfg.Database.Required,
		JournalDir:       JournalDir(cfg.DataDir),
		SubscriberBuffer: backOfficeBuffer,
		Logger:           s.log.Named("backoffice"),
	}, s.Universe, s.Directory, s.Seq)
	if err != nil {
		return fmt.Errorf("server: back office (database.required is true): %w", err)
	}
	s.BackOffice = svc
	return nil
}

// stopBackOffice lets the projector finish what was published, then
// stops it; call it after the sequencer closed.
func (s *Server) stopBackOffice() {
	if s.BackOffice != nil {
		_ = s.BackOffice.Stop(backOfficeDrain)
	}
}
