//go:build !linux

package loadtest

import "time"

// A pacer sleeps a rate-mode sender until its next order is due; outside
// Linux it is the runtime's timer (see pace_linux.go for why Linux has
// its own).
type pacer struct{}

func newPacer() *pacer                 { return &pacer{} }
func (p *pacer) sleep(d time.Duration) { time.Sleep(max(d, 1)) }
