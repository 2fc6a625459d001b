package matching

// Reason is a typed business outcome: why an order was rejected, canceled
// or expired, why a cancel or replace was refused, why a balance command
// changed nothing. Each maps one to one onto the FIX reason codes that
// clients switch on (OrdRejReason 103, CxlRejReason 102).
type Reason uint8

const (
	ReasonNone Reason = 0

	// New order rejects (EvRejected), also used to refuse a replace.
	RejUnknownSymbol    Reason = 1  // 103=1
	RejHalted           Reason = 2  // 103=2: symbol halted or closed
	RejInsufficientFund Reason = 3  // 103=3
	RejMaxQty           Reason = 4  // 103=3
	RejMaxNotional      Reason = 5  // 103=3: also a notional that would overflow
	RejPriceBand        Reason = 6  // 103=3
	RejMaxOpenOrders    Reason = 7  // 103=3
	RejDuplicateClOrdID Reason = 8  // 103=6
	RejUnsupported      Reason = 9  // 103=11: a combination the venue does not offer
	RejBadQty           Reason = 10 // 103=13: <= 0, off the step, below the minimum
	RejBadPrice         Reason = 11 // 103=99: <= 0 or off the tick
	RejPostOnlyTake     Reason = 12 // 103=99: post-only would take liquidity
	RejStopWouldTrigger Reason = 13 // 103=99: the stop is already reached
	RejBadStopPx        Reason = 14 // 103=99: stop-limit stop on the wrong side of the limit
	RejExpireInPast     Reason = 15 // 103=99: GTD ExpireTime not after the command time
	RejKillSwitch       Reason = 16 // 103=99: the account's kill switch is on
	RejUnknownAccount   Reason = 17 // 103=15: unknown, reserved, or another firm's account

	// Cancel and replace rejects (EvCancelRejected).
	CxlUnknownOrder   Reason = 30 // 102=1: unknown, or another firm's
	CxlTooLate        Reason = 31 // 102=0: already done
	CxlDuplicateClOrd Reason = 32 // 102=6
	CxlImmutable      Reason = 33 // 102=99: side, symbol, type or TIF differ

	// Why an order ended (EvCanceled, EvExpired).
	ReasonClient       Reason = 50
	ReasonIOCRemainder Reason = 51 // IOC or market: what could not fill at once
	ReasonFOKUnfilled  Reason = 52
	ReasonSelfTrade    Reason = 53
	ReasonMassCancel   Reason = 54
	ReasonDisconnect   Reason = 55
	ReasonHalt         Reason = 56
	ReasonKillSwitch   Reason = 57
	ReasonAdmin        Reason = 58
	ReasonExpireGTD    Reason = 59
	ReasonExpireDay    Reason = 60
	ReasonTriggerBand  Reason = 61 // a triggered stop-limit whose limit is outside the band now
	ReasonTriggerFunds Reason = 62 // a triggered stop-market buy whose band limit the holds no longer cover
	ReasonReplacedAway Reason = 63 // replaced to a quantity at or below the filled quantity

	// Balance and reference-data outcomes (EvBalance, EvRefData).
	BalDuplicate   Reason = 80 // the idempotency key was seen: nothing changed
	BalUnknownAcct Reason = 81
	BalBadAmount   Reason = 82 // <= 0 or unknown asset
	BalInsufficent Reason = 83 // available balance too small for the hold
	BalUnknownHold Reason = 84 // release or settle of a key that holds nothing
	BalSupplyLimit Reason = 85 // the asset's total would exceed int64
	RefInvalid     Reason = 86 // a reference-data command with a bad field
)

// OrdRejReason is the FIX OrdRejReason (103) for a new-order reject.
func (r Reason) OrdRejReason() int {
	switch r {
	case RejUnknownSymbol:
		return 1
	case RejHalted:
		return 2
	case RejInsufficientFund, RejMaxQty, RejMaxNotional, RejPriceBand, RejMaxOpenOrders:
		return 3
	case RejDuplicateClOrdID:
		return 6
	case RejUnsupported:
		return 11
	case RejBadQty:
		return 13
	case RejUnknownAccount:
		return 15
	}
	return 99
}

// CxlRejReason is the FIX CxlRejReason (102) for a cancel or replace reject.
func (r Reason) CxlRejReason() int {
	switch r {
	case CxlTooLate:
		return 0
	case CxlUnknownOrder:
		return 1
	case CxlDuplicateClOrd:
		return 6
	}
	return 99
}

// String is the text clients read in FIX Text (58).
func (r Reason) String() string {
	switch r {
	case ReasonNone:
		return ""
	case RejUnknownSymbol:
		return "unknown symbol"
	case RejHalted:
		return "symbol is not open for trading"
	case RejInsufficientFund:
		return "insufficient available balance"
	case RejMaxQty:
		return "quantity exceeds the symbol's maximum order quantity"
	case RejMaxNotional:
		return "notional exceeds the symbol's maximum order notional"
	case RejPriceBand:
		return "price outside the price band"
	case RejMaxOpenOrders:
		return "account has the maximum number of open orders"
	case RejDuplicateClOrdID:
		return "duplicate ClOrdID"
	case RejUnsupported:
		return "unsupported order characteristic"
	case RejBadQty:
		return "quantity is not positive, off the quantity step or below the minimum"
	case RejBadPrice:
		return "price is not positive or not a multiple of the tick"
	case RejPostOnlyTake:
		return "post-only order would take liquidity"
	case RejStopWouldTrigger:
		return "stop price is already reached"
	case RejBadStopPx:
		return "stop price on the wrong side of the limit price"
	case RejExpireInPast:
		return "ExpireTime is not in the future"
	case RejKillSwitch:
		return "account kill switch is on"
	case RejUnknownAccount:
		return "unknown account"
	case CxlUnknownOrder:
		return "unknown order"
	case CxlTooLate:
		return "order is already done"
	case CxlDuplicateClOrd:
		return "duplicate ClOrdID"
	case CxlImmutable:
		return "side, symbol, order type and time in force cannot be replaced"
	case ReasonClient:
		return "canceled on request"
	case ReasonIOCRemainder:
		return "remainder of an immediate order canceled"
	case ReasonFOKUnfilled:
		return "fill-or-kill order could not fill completely"
	case ReasonSelfTrade:
		return "self-trade prevention"
	case ReasonMassCancel:
		return "mass cancel"
	case ReasonDisconnect:
		return "cancel on disconnect"
	case ReasonHalt:
		return "symbol halted"
	case ReasonKillSwitch:
		return "account kill switch"
	case ReasonAdmin:
		return "canceled by the venue"
	case ReasonExpireGTD:
		return "expired at ExpireTime"
	case ReasonExpireDay:
		return "day order expired at session close"
	case ReasonTriggerBand:
		return "triggered stop limit outside the price band"
	case ReasonTriggerFunds:
		return "triggered stop not covered by available balance"
	case ReasonReplacedAway:
		return "replaced to a quantity at or below the filled quantity"
	case BalDuplicate:
		return "duplicate idempotency key: nothing changed"
	case BalUnknownAcct:
		return "unknown account"
	case BalBadAmount:
		return "amount must be positive in a known asset"
	case BalInsufficent:
		return "insufficient available balance"
	case BalUnknownHold:
		return "no withdrawal hold under this key"
	case BalSupplyLimit:
		return "asset total would exceed the engine's limit"
	case RefInvalid:
		return "invalid reference data"
	}
	return "other"
}
