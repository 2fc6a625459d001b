package matching

// Read-only views of the engine for the gateways and operators. They read
// the state without changing it; like Apply they are not safe for
// concurrent use with Apply, so call them only where no command is being
// applied (before the sequencer starts taking commands, or from its
// goroutine).

// HasSymbol says whether the symbol exists.
func (e *Engine) HasSymbol(id SymbolID) bool { return e.symbols[id] != nil }

// SymbolIDs returns the ids of every symbol, ascending.
func (e *Engine) SymbolIDs() []SymbolID {
	out := make([]SymbolID, len(e.symList))
	for i, s := range e.symList {
		out[i] = s.spec.ID
	}
	return out
}

// Symbol returns the symbol's spec and current status.
func (e *Engine) Symbol(id SymbolID) (SymbolSpec, SymbolStatus, bool) {
	s := e.symbols[id]
	if s == nil {
		return SymbolSpec{}, 0, false
	}
	return s.spec, s.status, true
}

// HasAccount says whether the trading account exists.
func (e *Engine) HasAccount(id AccountID) bool {
	return id > FeeAccount && e.account(id) != nil
}

// Balance returns an account's total and held amount of an asset.
func (e *Engine) Balance(id AccountID, asset AssetID) (total, held int64) {
	a := e.account(id)
	if a == nil || asset >= MaxAssets {
		return 0, 0
	}
	return a.bal[asset].total, a.bal[asset].held
}

// OpenOrders calls f with every working order (resting, and untriggered
// stops) in OrderID order.
func (e *Engine) OpenOrders(f func(OrderView)) {
	for _, o := range appendLive(nil, &e.orders, func(*order) bool { return true }) { // not the scratch: a view changes nothing
		f(o.v)
	}
}

// Level is one aggregated price level of a book.
type Level struct {
	Px, Qty int64
}

// Book returns the symbol's aggregated levels, best first, at most depth
// per side (0: all).
func (e *Engine) Book(id SymbolID, depth int) (bids, asks []Level) {
	s := e.symbols[id]
	if s == nil {
		return nil, nil
	}
	take := func(levels []*level) []Level {
		var out []Level
		for i := len(levels) - 1; i >= 0; i-- {
			if depth > 0 && len(out) == depth {
				break
			}
			out = append(out, Level{levels[i].px, levels[i].qty})
		}
		return out
	}
	return take(s.bids), take(s.asks)
}
