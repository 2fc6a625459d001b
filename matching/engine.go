// Package matching is the venue's deterministic matching engine: a pure
// function of (state, command) that returns events. It does no I/O, reads no
// clock, starts no goroutine and draws no random number; time arrives on the
// command. Replaying the same commands yields byte-identical events.
//
// The rules are in SPEC.md; matching/refmodel implements the same rules
// slowly and obviously, and the differential test holds the two together.
package matching

// Engine is the whole trading state: books, stops, accounts, balances,
// holds and the day's ClOrdIDs. It is not safe for concurrent use: one
// goroutine (the sequencer) owns it.
type Engine struct {
	symbols  map[SymbolID]*symbol
	symList  []*symbol // ascending ID, for deterministic iteration
	accounts []*account
	feeTiers [MaxFeeTiers]feeTier
	orders   orderIndex
	clOrdIDs clIndex
	balKeys  map[string]*balKey
	gtd      gtdHeap

	nextOrderID OrderID
	nextTradeID uint64
	nextPrio    uint64
	supply      [MaxAssets]int64 // client totals per asset (every account but External)

	cmd      *Command
	events   []Event
	free     *order // free list of order structs
	freeLvl  *level
	scratch  []*order
	matching *level // the level an aggressor is matching against
	clFree   clFree // the empty ClOrdID slot dupClOrdID found, until renameFor
}

// clFree is where a request's new ClOrdID goes in the index, found by the
// duplicate check; valid only until the index next changes.
type clFree struct {
	valid bool
	key   clKey
	hint  clHint
}

type feeTier struct{ makerPpm, takerPpm int64 }

type clKey struct {
	session SessionID
	id      string
}

type balance struct{ total, held int64 }

type account struct {
	spec AccountSpec
	bal  [MaxAssets]balance
	live int32
	kill bool
}

const (
	balDeposit uint8 = 1
	balHold    uint8 = 2

	holdOpen     uint8 = 0
	holdReleased uint8 = 1
	holdSettled  uint8 = 2
)

type balKey struct {
	kind    uint8
	state   uint8
	account AccountID
	asset   AssetID
	amount  int64
}

// New returns an empty engine: no symbols, no accounts but the reserved
// External and Fee accounts, fee tiers at zero.
func New() *Engine {
	e := &Engine{
		symbols:     make(map[SymbolID]*symbol),
		orders:      newOrderIndex(),
		clOrdIDs:    newClIndex(),
		balKeys:     make(map[string]*balKey),
		nextOrderID: 1,
		nextTradeID: 1,
		events:      make([]Event, 0, 64),
	}
	e.accounts = make([]*account, 2)
	e.accounts[ExternalAccount] = &account{spec: AccountSpec{ID: ExternalAccount, STP: STPCancelAggressor}}
	e.accounts[FeeAccount] = &account{spec: AccountSpec{ID: FeeAccount, STP: STPCancelAggressor}}
	return e
}

// Apply executes one command and returns what happened. The returned slice
// is owned by the engine and valid only until the next call.
func (e *Engine) Apply(cmd *Command) []Event {
	e.cmd = cmd
	e.events = e.events[:0]
	e.clFree.valid = false
	e.expireGTD(cmd.Time)
	switch cmd.Kind {
	case CmdNewOrder:
		e.newOrder(cmd)
	case CmdCancel:
		e.cancel(cmd)
	case CmdReplace:
		e.replace(cmd)
	case CmdMassCancel:
		e.massCancel(cmd)
	case CmdSessionClose:
		e.sessionClose(cmd)
	case CmdSetStatus:
		e.setStatus(cmd)
	case CmdKillSwitch:
		e.killSwitch(cmd)
	case CmdDeposit, CmdWithdrawHold, CmdWithdrawRelease, CmdWithdrawSettle:
		e.balanceCmd(cmd)
	case CmdAddSymbol:
		e.addSymbol(cmd)
	case CmdAddAccount:
		e.addAccount(cmd)
	case CmdSetFeeTier:
		e.setFeeTier(cmd)
	case CmdNewDay:
		e.clOrdIDs.reset()
		e.emit(EvClock)
	case CmdClock:
		e.emit(EvClock)
	default:
		ev := e.emit(EvRefData)
		ev.Reason = RefInvalid
	}
	e.cmd = nil
	return e.events
}

// emit appends a zeroed event stamped with the current command and returns
// it for the caller to fill. The pointer is valid until the next emit.
func (e *Engine) emit(kind EventKind) *Event {
	n := len(e.events)
	if n < cap(e.events) {
		e.events = e.events[:n+1]
		e.events[n] = Event{}
	} else {
		e.events = append(e.events, Event{})
	}
	ev := &e.events[n]
	ev.Seq = e.cmd.Seq
	ev.Time = e.cmd.Time
	ev.Kind = kind
	ev.Ref = e.cmd.Kind
	return ev
}

func (e *Engine) account(id AccountID) *account {
	if int(id) >= len(e.accounts) {
		return nil
	}
	return e.accounts[id]
}

// tradingAccount returns the account if it exists, may trade, and may be
// acted for by firm (0: the venue, any account).
func (e *Engine) tradingAccount(id AccountID, firm FirmID) *account {
	if id == ExternalAccount || id == FeeAccount {
		return nil
	}
	a := e.account(id)
	if a == nil || (firm != 0 && a.spec.Firm != firm) {
		return nil
	}
	return a
}
