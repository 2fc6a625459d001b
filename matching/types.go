package matching

// Identifiers. All are small integers chosen by the venue's reference data,
// except OrderID, which the engine assigns from a counter.
type (
	SymbolID  uint32
	AccountID uint32
	FirmID    uint32
	AssetID   uint8
	SessionID uint32
	OrderID   uint64
)

// MaxAssets bounds the assets the engine knows (BTC, USD, EUR, ...). Balances
// are fixed arrays of this size, so a balance lookup is an index, not a map.
const MaxAssets = 8

// MaxFeeTiers bounds the fee schedule.
const MaxFeeTiers = 16

// Reserved accounts. Neither may trade.
const (
	// ExternalAccount is the world outside the venue. Deposits are posted
	// from it and withdrawals to it, so every asset's postings sum to zero
	// and its balance is minus what the venue owes its clients. It is the
	// only balance that may be negative.
	ExternalAccount AccountID = 0
	// FeeAccount collects every fee the venue charges.
	FeeAccount AccountID = 1
)

// Side of an order. The values are FIX Side (54).
type Side uint8

const (
	Buy  Side = 1
	Sell Side = 2
)

// OrdType is FIX OrdType (40).
type OrdType uint8

const (
	Market    OrdType = 1
	Limit     OrdType = 2
	Stop      OrdType = 3 // stop-market
	StopLimit OrdType = 4
)

// TIF is FIX TimeInForce (59).
type TIF uint8

const (
	Day TIF = 0
	GTC TIF = 1
	IOC TIF = 3
	FOK TIF = 4
	GTD TIF = 6
)

// STPMode is the self-trade prevention mode; the values are the bytes of the
// venue's FIX tag 7928.
type STPMode uint8

const (
	STPDefault         STPMode = 0   // use the account's default
	STPCancelResting   STPMode = 'O' // cancel the resting (oldest) order, keep matching
	STPCancelAggressor STPMode = 'N' // cancel the aggressor (newest)
	STPCancelBoth      STPMode = 'B'
	STPDecrement       STPMode = 'D' // reduce both by the smaller leaves; cancel what reaches zero
)

// SymbolStatus is a symbol's trading status.
type SymbolStatus uint8

const (
	StatusOpen   SymbolStatus = 1
	StatusHalted SymbolStatus = 2 // new orders and replaces rejected, cancels accepted
	StatusClosed SymbolStatus = 3 // as halted; the state between trading sessions
)

// OrdStatus is FIX OrdStatus (39).
type OrdStatus uint8

const (
	StatusNew             OrdStatus = '0'
	StatusPartiallyFilled OrdStatus = '1'
	StatusFilled          OrdStatus = '2'
	StatusCanceled        OrdStatus = '4'
	StatusRejected        OrdStatus = '8'
	StatusExpired         OrdStatus = 'C'
)

// CmdKind says what a Command asks for.
type CmdKind uint8

const (
	CmdNewOrder        CmdKind = 1
	CmdCancel          CmdKind = 2
	CmdReplace         CmdKind = 3
	CmdMassCancel      CmdKind = 4
	CmdSessionClose    CmdKind = 5 // expire the symbol's Day orders
	CmdSetStatus       CmdKind = 6 // symbol trading status
	CmdKillSwitch      CmdKind = 7
	CmdDeposit         CmdKind = 8
	CmdWithdrawHold    CmdKind = 9
	CmdWithdrawRelease CmdKind = 10
	CmdWithdrawSettle  CmdKind = 11
	CmdAddSymbol       CmdKind = 12
	CmdAddAccount      CmdKind = 13 // add or update
	CmdSetFeeTier      CmdKind = 14
	CmdNewDay          CmdKind = 15 // forget the previous day's ClOrdIDs
	CmdClock           CmdKind = 16 // no-op that carries time (drives GTD expiry)
)

// Command is everything that can change the engine's state. It is a flat
// value so the journal can encode it without reflection and the sequencer
// can pass it without allocating. Which fields matter depends on Kind.
type Command struct {
	Kind CmdKind
	Seq  uint64 // stamped by the sequencer; strictly increasing
	Time int64  // unix nanoseconds, stamped by the sequencer; never decreases

	// Who: the session that sent it and the firm that session acts for.
	// Firm 0 is the venue itself (operators, jobs): it may act for any account.
	Session SessionID
	Firm    FirmID
	Account AccountID

	// NewOrder and Replace.
	Symbol     SymbolID
	Side       Side
	Type       OrdType
	TIF        TIF
	STP        STPMode
	PostOnly   bool
	Px         int64 // limit price in price units (e.g. USD cents)
	StopPx     int64
	Qty        int64 // base units (e.g. satoshi)
	ExpireTime int64 // GTD, unix nanoseconds

	// Cancel and Replace address an order by OrderID, or when it is 0 by
	// (Session, OrigClOrdID). ClOrdID is the new request's id.
	OrderID     OrderID
	ClOrdID     string
	OrigClOrdID string

	// MassCancel: Account (0 = every account of Firm, or of all firms when
	// Firm is 0), Symbol (0 = all), Side (0 = both), OnlySession (only orders
	// entered by Session), Reason (ReasonMassCancel, ReasonDisconnect,
	// ReasonAdmin, ...).
	OnlySession bool
	Reason      Reason

	// SetStatus: Status, and Flag = also cancel every order of the symbol.
	// KillSwitch: Flag = on (cancel the account's orders, refuse new ones) or off.
	Status SymbolStatus
	Flag   bool

	// Deposit, WithdrawHold/Release/Settle: Key is the idempotency key.
	// Release and Settle name the hold by its key.
	Asset  AssetID
	Amount int64
	Key    string

	// Reference data.
	SymbolSpec  *SymbolSpec
	AccountSpec *AccountSpec
	FeeTier     uint8
	MakerPpm    int64 // fee rate in millionths of notional (1 bp = 100)
	TakerPpm    int64
}

// SymbolSpec is a tradable pair. Prices are integers in price units (for
// BTC-USD a price unit is 0.01 USD), quantities integers in base units
// (satoshi) and notional price × quantity is in quote units (1e-10 USD):
// the quote asset's unit is the price unit times the base unit, so every
// notional is exact.
type SymbolSpec struct {
	ID          SymbolID
	Name        string
	Base, Quote AssetID
	TickSize    int64 // price units; every price is a multiple
	QtyStep     int64 // base units; every quantity is a multiple
	MinQty      int64
	MaxQty      int64 // per order
	MaxNotional int64 // per order, quote units
	RefPx       int64 // reference price until the first trade
	BandBps     int64 // price band around the reference: 2000 = +-20 %
	Status      SymbolStatus
}

// AccountSpec is a trading account.
type AccountSpec struct {
	ID            AccountID
	Firm          FirmID
	FeeTier       uint8
	STP           STPMode // default for orders that do not say
	STPFirm       bool    // self-trade means same firm, not only same account
	MaxOpenOrders int32
}

// Posting moves Amount of Asset into Account (negative: out of it). The
// postings of one event sum to zero per asset.
type Posting struct {
	Account AccountID
	Asset   AssetID
	Amount  int64
}

// MaxPostings is the most postings one event carries (a trade: both sides'
// base and quote legs and the fee account).
const MaxPostings = 5

// OrderView is an order's full state at the moment of an event.
type OrderView struct {
	ID          OrderID
	ClOrdID     string
	OrigClOrdID string // on Replaced and on Canceled by request: the id it replaced
	Session     SessionID
	Account     AccountID
	Symbol      SymbolID
	Side        Side
	Type        OrdType
	TIF         TIF
	STP         STPMode // resolved: never STPDefault
	PostOnly    bool
	Status      OrdStatus
	Triggered   bool  // a stop that has triggered and now works as market/limit
	Px          int64 // limit price (0 for market; the band limit once it works)
	StopPx      int64
	Qty         int64
	Cum         int64 // filled
	Leaves      int64 // Qty - Cum while working; 0 when done
	Notional    int64 // sum of fill price × fill qty, for AvgPx = Notional / Cum
	Fees        int64 // sum of fees charged, quote units
	ExpireTime  int64
}

// EventKind says what happened.
type EventKind uint8

const (
	EvAccepted       EventKind = 1  // Order: new (a stop is accepted untriggered)
	EvRejected       EventKind = 2  // Order as requested, Reason
	EvTrade          EventKind = 3  // Order = taker after fill, Maker = maker after fill
	EvCanceled       EventKind = 4  // Order, Reason
	EvReplaced       EventKind = 5  // Order after the replace
	EvCancelRejected EventKind = 6  // Order current state (zero ID when unknown), Reason, Ref
	EvRestated       EventKind = 7  // STP decrement reduced Order.Qty
	EvExpired        EventKind = 8  // Reason ReasonExpireGTD or ReasonExpireDay
	EvTriggered      EventKind = 9  // stop triggered; Order works from now on
	EvLevel          EventKind = 10 // Symbol, Side, Px, Qty = new aggregate (0: level gone)
	EvMassCanceled   EventKind = 11 // Count orders canceled; Reason is why (0 = done)
	EvSymbolStatus   EventKind = 12 // Symbol, Status
	EvKillSwitch     EventKind = 13 // Account, Flag
	EvBalance        EventKind = 14 // Ref command kind, Account, Asset, Amount, Key, Postings; Reason != 0: refused or duplicate
	EvRefData        EventKind = 15 // Ref command kind; Reason != 0: refused
	EvClock          EventKind = 16 // a NewDay or Clock command was applied
)

// Event is one thing that happened. It is a flat comparable value: two
// engines agree exactly when their event streams are equal with ==.
type Event struct {
	Seq  uint64 // of the command that caused it
	Time int64

	// The one-byte fields together, then the four-byte ones: laid out
	// without padding (a test guards the size), since every event is
	// zeroed and copied whole.
	Kind      EventKind
	Ref       CmdKind // the command kind that caused it
	Reason    Reason
	Side      Side // Level
	Aggressor Side // Trade: the taker's side
	Status    SymbolStatus
	Flag      bool
	Asset     AssetID
	NPostings uint8
	Symbol    SymbolID // Trade, Level
	Account   AccountID

	Order OrderView
	Maker OrderView

	// Trade: TradeID, Px, Qty, fees. Level: Px, Qty.
	TradeID  uint64
	Px       int64
	Qty      int64
	MakerFee int64
	TakerFee int64

	Count  int64 // MassCanceled
	Amount int64
	Key    string

	Postings [MaxPostings]Posting
}
