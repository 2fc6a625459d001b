package fix

import (
	"errors"

	"go.uber.org/zap"

	"venue/matching"
	"venue/sequencer"
)

// ErrRouterBehind is returned by Route when the sequencer dropped the
// router for falling behind: reports would be missing, so the venue must
// stop rather than trade on.
var ErrRouterBehind = errors.New("fix: router fell behind the sequencer")

// Route turns every published command's events into ExecutionReports,
// OrderCancelRejects and OrderMassCancelReports for the sessions they
// concern, keeping the gateway's view of the orders first so a status
// request after a report sees at least that report's state. It returns
// when the subscription ends: nil after the sequencer closed it cleanly.
func (g *OrderEntry) Route(sub *sequencer.Subscription, stopped <-chan struct{}) error {
	var out []addressed
	for p := range sub.C {
		out = g.handle(p, out[:0])
	}
	select {
	case <-stopped:
		return nil
	default:
	}
	if r := sub.Reason(); r != "" {
		g.log.Warn("router dropped by the sequencer", zap.String("reason", r))
		return ErrRouterBehind
	}
	return nil
}

// LastSeq is the seq of the last command the router handled.
func (g *OrderEntry) LastSeq() uint64 { return g.lastSeq.Load() }

// CatchUp handles the commands (from, to] regenerated from the journal:
// after the sequencer dropped the router for falling behind, before it
// follows a new subscription, so no report is lost, only late.
func (g *OrderEntry) CatchUp(journalDir string, from, to uint64) error {
	if from > to {
		return nil
	}
	var out []addressed
	_, err := sequencer.ReplayEvents(nil, journalDir, from, to, func(p *sequencer.Published) error {
		out = g.handle(p, out[:0])
		return nil
	})
	if err != nil {
		return err
	}
	g.log.Info("order entry caught up from the journal", zap.Uint64("from_seq", from), zap.Uint64("to_seq", to))
	return nil
}

func (g *OrderEntry) handle(p *sequencer.Published, out []addressed) []addressed {
	defer g.lastSeq.Store(p.Seq)
	// 1. follow the engine.
	for i := range p.Events {
		ev := &p.Events[i]
		switch ev.Kind {
		case matching.EvAccepted, matching.EvCanceled, matching.EvReplaced, matching.EvRestated,
			matching.EvExpired, matching.EvTriggered:
			g.orders.put(&ev.Order, g.firmOf(ev.Order.Account))
		case matching.EvTrade:
			g.orders.put(&ev.Maker, g.firmOf(ev.Maker.Account))
			g.orders.put(&ev.Order, g.firmOf(ev.Order.Account))
		case matching.EvClock:
			if p.Kind == matching.CmdNewDay {
				g.orders.newDay()
			}
		}
	}
	// 2. the mass-cancel report goes before the cancels it counts.
	if p.Kind == matching.CmdMassCancel && p.Cmd.Reason == matching.ReasonMassCancel {
		for i := range p.Events {
			if ev := &p.Events[i]; ev.Kind == matching.EvMassCanceled {
				sym, _ := g.uni.SymbolByID(p.Cmd.Symbol)
				refused := matching.ReasonNone
				if ev.Reason == matching.RejUnknownAccount {
					refused = ev.Reason
				}
				out = append(out, addressed{p.Cmd.Session, outMsg{msg: massCancelReport(&p.Cmd, p.Seq, ev.Count, ev.Time, sym, refused)}})
				break
			}
		}
	}
	// 3. render and send.
	for i := range p.Events {
		out = g.render(&p.Events[i], i, &p.Cmd, out)
	}
	for _, a := range out {
		if st := g.stateByID(a.session); st != nil {
			g.sendOut(st, a.m)
		}
	}
	return out
}
