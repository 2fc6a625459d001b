package matching

// balanceCmd applies deposits and withdrawal holds, releases and
// settlements. Each is idempotent by its key: a repeated key changes
// nothing and says so (BalDuplicate).
func (e *Engine) balanceCmd(cmd *Command) {
	ev := e.emit(EvBalance)
	ev.Account, ev.Asset, ev.Amount, ev.Key = cmd.Account, cmd.Asset, cmd.Amount, cmd.Key
	if cmd.Key == "" {
		ev.Reason = RefInvalid
		return
	}
	k := e.balKeys[cmd.Key]
	switch cmd.Kind {
	case CmdDeposit, CmdWithdrawHold:
		if k != nil {
			ev.Reason = BalDuplicate
			return
		}
		a := e.account(cmd.Account)
		if a == nil || cmd.Account == ExternalAccount {
			ev.Reason = BalUnknownAcct
			return
		}
		if cmd.Amount <= 0 || cmd.Asset >= MaxAssets {
			ev.Reason = BalBadAmount
			return
		}
		b := &a.bal[cmd.Asset]
		if cmd.Kind == CmdDeposit {
			if e.supply[cmd.Asset] > maxInt64-cmd.Amount {
				ev.Reason = BalSupplyLimit
				return
			}
			b.total += cmd.Amount
			e.supply[cmd.Asset] += cmd.Amount
			e.accounts[ExternalAccount].bal[cmd.Asset].total -= cmd.Amount
			ev.NPostings = 2
			ev.Postings[0] = Posting{cmd.Account, cmd.Asset, cmd.Amount}
			ev.Postings[1] = Posting{ExternalAccount, cmd.Asset, -cmd.Amount}
			e.balKeys[cmd.Key] = &balKey{kind: balDeposit, account: cmd.Account, asset: cmd.Asset, amount: cmd.Amount}
			return
		}
		if cmd.Amount > b.total-b.held {
			ev.Reason = BalInsufficent
			return
		}
		b.held += cmd.Amount
		e.balKeys[cmd.Key] = &balKey{kind: balHold, account: cmd.Account, asset: cmd.Asset, amount: cmd.Amount}
	case CmdWithdrawRelease, CmdWithdrawSettle:
		if k == nil || k.kind != balHold {
			ev.Reason = BalUnknownHold
			return
		}
		ev.Account, ev.Asset, ev.Amount = k.account, k.asset, k.amount
		want := holdReleased
		if cmd.Kind == CmdWithdrawSettle {
			want = holdSettled
		}
		switch k.state {
		case want:
			ev.Reason = BalDuplicate
			return
		case holdReleased, holdSettled:
			ev.Reason = BalUnknownHold
			return
		}
		k.state = want
		b := &e.accounts[k.account].bal[k.asset]
		b.held -= k.amount
		if want == holdSettled {
			b.total -= k.amount
			e.supply[k.asset] -= k.amount
			e.accounts[ExternalAccount].bal[k.asset].total += k.amount
			ev.NPostings = 2
			ev.Postings[0] = Posting{k.account, k.asset, -k.amount}
			ev.Postings[1] = Posting{ExternalAccount, k.asset, k.amount}
		}
	}
}

func (e *Engine) addSymbol(cmd *Command) {
	ev := e.emit(EvRefData)
	sp := cmd.SymbolSpec
	if sp == nil {
		ev.Reason = RefInvalid
		return
	}
	ev.Symbol = sp.ID
	if !validSymbol(sp) || e.symbols[sp.ID] != nil {
		ev.Reason = RefInvalid
		return
	}
	s := &symbol{spec: *sp, status: sp.Status}
	e.symbols[sp.ID] = s
	i := 0
	for i < len(e.symList) && e.symList[i].spec.ID < sp.ID {
		i++
	}
	e.symList = append(e.symList, nil)
	copy(e.symList[i+1:], e.symList[i:])
	e.symList[i] = s
}

func validSymbol(sp *SymbolSpec) bool {
	return sp.ID != 0 && sp.Base != sp.Quote && sp.Base < MaxAssets && sp.Quote < MaxAssets &&
		sp.TickSize > 0 && sp.QtyStep > 0 && sp.MinQty > 0 && sp.MinQty%sp.QtyStep == 0 &&
		sp.MaxQty >= sp.MinQty && sp.MaxNotional > 0 &&
		sp.RefPx > 0 && sp.RefPx%sp.TickSize == 0 && sp.RefPx <= maxInt64/20000 &&
		sp.BandBps > 0 && sp.BandBps < 10000 &&
		sp.Status >= StatusOpen && sp.Status <= StatusClosed
}

func (e *Engine) addAccount(cmd *Command) {
	ev := e.emit(EvRefData)
	sp := cmd.AccountSpec
	if sp == nil {
		ev.Reason = RefInvalid
		return
	}
	ev.Account = sp.ID
	ok := sp.ID >= 2 && sp.ID < 1<<24 && sp.FeeTier < MaxFeeTiers && sp.MaxOpenOrders >= 0
	switch sp.STP {
	case STPCancelResting, STPCancelAggressor, STPCancelBoth, STPDecrement:
	default:
		ok = false
	}
	if !ok {
		ev.Reason = RefInvalid
		return
	}
	if a := e.account(sp.ID); a != nil {
		if a.spec.Firm != sp.Firm {
			ev.Reason = RefInvalid
			return
		}
		a.spec = *sp
		return
	}
	for int(sp.ID) >= len(e.accounts) {
		e.accounts = append(e.accounts, nil)
	}
	e.accounts[sp.ID] = &account{spec: *sp}
}

func (e *Engine) setFeeTier(cmd *Command) {
	ev := e.emit(EvRefData)
	if cmd.FeeTier >= MaxFeeTiers || cmd.MakerPpm < 0 || cmd.MakerPpm > 1_000_000 ||
		cmd.TakerPpm < 0 || cmd.TakerPpm > 1_000_000 {
		ev.Reason = RefInvalid
		return
	}
	e.feeTiers[cmd.FeeTier] = feeTier{cmd.MakerPpm, cmd.TakerPpm}
}
