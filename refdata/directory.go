package refdata

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/shopspring/decimal"
	"golang.org/x/crypto/bcrypt"

	"venue/matching"
)

// SessionKind is what a FIX session may do.
type SessionKind uint8

const (
	OrderEntry SessionKind = 1
	DropCopy   SessionKind = 2
	MarketData SessionKind = 3
)

func (k SessionKind) String() string {
	switch k {
	case OrderEntry:
		return "order-entry"
	case DropCopy:
		return "drop-copy"
	case MarketData:
		return "market-data"
	}
	return "unknown"
}

// Firm is a member firm.
type Firm struct {
	ID   matching.FirmID
	Name string
}

// Account is a trading account of a firm. Name is what FIX Account (1)
// carries.
type Account struct {
	Spec matching.AccountSpec
	Name string
	// KYCTier is the account's know-your-customer tier (the back office's
	// accounts.kyc_tier); nothing enforces it yet.
	KYCTier int
	// Suspended accounts may cancel but not place or replace orders (an
	// operator's `venue admin account suspend`, or a suspended firm).
	Suspended bool
}

// Session is a FIX session's identity and entitlements.
type Session struct {
	CompID       string
	ID           matching.SessionID
	Kind         SessionKind
	Firm         matching.FirmID
	Account      matching.AccountID // default account (order entry)
	PasswordHash []byte             // bcrypt
	// CancelOnDisconnect is the session's default; Logon 8013 overrides.
	CancelOnDisconnect bool
	Suspended          bool
	// ThrottlePerSecond is the session's own message rate limit (the back
	// office's fix_sessions.throttle_per_second); 0: fix.throttle_per_second.
	ThrottlePerSecond int
	// TradeCaptureReports makes a drop-copy session receive trades as
	// TradeCaptureReports (35=AE) instead of fill ExecutionReports.
	TradeCaptureReports bool
	// Accounts are the accounts an order-entry session may act for
	// besides its default Account (the back office's
	// fix_session_accounts), ascending. An order naming any other account,
	// even one of the session's firm, is rejected.
	Accounts []matching.AccountID
}

// MayActFor reports whether an order-entry session may place orders for
// the account: its default account or one granted to it.
func (s *Session) MayActFor(a matching.AccountID) bool {
	_, ok := slices.BinarySearch(s.Accounts, a)
	return a == s.Account || ok
}

// CheckPassword reports whether password matches the stored hash.
func (s *Session) CheckPassword(password string) bool {
	return bcrypt.CompareHashAndPassword(s.PasswordHash, []byte(password)) == nil
}

// Directory is who may connect and for whom they act. It is safe for
// concurrent use and may change while the venue runs.
type Directory struct {
	mu       sync.RWMutex
	firms    map[matching.FirmID]Firm
	accounts map[matching.AccountID]Account
	accByNm  map[string]matching.AccountID
	sessions map[string]Session
	sessByID map[matching.SessionID]string // CompID of each session id
}

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{
		firms:    map[matching.FirmID]Firm{},
		accounts: map[matching.AccountID]Account{},
		accByNm:  map[string]matching.AccountID{},
		sessions: map[string]Session{},
		sessByID: map[matching.SessionID]string{},
	}
}

// PutFirm adds or replaces a firm.
func (d *Directory) PutFirm(f Firm) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.firms[f.ID] = f
}

// PutAccount adds or replaces an account (a renamed account is no longer
// found by its old name).
func (d *Directory) PutAccount(a Account) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.accounts[a.Spec.ID]; ok && old.Name != a.Name && d.accByNm[old.Name] == a.Spec.ID {
		delete(d.accByNm, old.Name)
	}
	d.accounts[a.Spec.ID] = a
	d.accByNm[a.Name] = a.Spec.ID
}

// PutSession adds or replaces a session.
func (d *Directory) PutSession(s Session) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.sessions[s.CompID]; ok && old.ID != s.ID && d.sessByID[old.ID] == s.CompID {
		delete(d.sessByID, old.ID)
	}
	d.sessions[s.CompID] = s
	d.sessByID[s.ID] = s.CompID
}

// RemoveSession forgets a CompID: it can no longer log on. A connection
// already logged on is not cut by this.
func (d *Directory) RemoveSession(compID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.sessions[compID]; ok && d.sessByID[old.ID] == compID {
		delete(d.sessByID, old.ID)
	}
	delete(d.sessions, compID)
}

// Firms returns every firm, ascending by id.
func (d *Directory) Firms() []Firm {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := slices.Collect(maps.Values(d.firms))
	slices.SortFunc(out, func(a, b Firm) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Session returns the session of a CompID.
func (d *Directory) Session(compID string) (Session, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	s, ok := d.sessions[compID]
	return s, ok
}

// SessionByID returns the session with the engine id.
func (d *Directory) SessionByID(id matching.SessionID) (Session, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	comp, ok := d.sessByID[id]
	if !ok {
		return Session{}, false
	}
	s, ok := d.sessions[comp]
	return s, ok
}

// Firm returns the firm with the engine id.
func (d *Directory) Firm(id matching.FirmID) (Firm, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	f, ok := d.firms[id]
	return f, ok
}

// AccountByName returns the account FIX calls name.
func (d *Directory) AccountByName(name string) (Account, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	id, ok := d.accByNm[name]
	if !ok {
		return Account{}, false
	}
	return d.accounts[id], true
}

// Account returns the account with the engine id.
func (d *Directory) Account(id matching.AccountID) (Account, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.accounts[id]
	return a, ok
}

// Accounts returns every account, ascending by id.
func (d *Directory) Accounts() []Account {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := slices.Collect(maps.Values(d.accounts))
	slices.SortFunc(out, func(a, b Account) int { return cmp.Compare(a.Spec.ID, b.Spec.ID) })
	return out
}

// Sessions returns every session's CompID, sorted.
func (d *Directory) Sessions() []Session {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := slices.Collect(maps.Values(d.sessions))
	slices.SortFunc(out, func(a, b Session) int { return cmp.Compare(a.CompID, b.CompID) })
	return out
}

// Dev fee schedule (tier 0): maker 1 bp, taker 2 bp, in millionths.
const (
	DevMakerPpm = 100
	DevTakerPpm = 200
)

// DevFunding is what each dev account is credited once (by idempotency
// key): 1,000 BTC and 100,000,000 USD (DESIGN.md's dev contract).
var DevFunding = map[string]decimal.Decimal{
	"BTC": decimal.NewFromInt(1_000),
	"USD": decimal.NewFromInt(100_000_000),
	"EUR": decimal.NewFromInt(100_000_000),
}

// DevPassword is the dev password of a session: its CompID in lower case.
// Dev only.
func DevPassword(compID string) string { return strings.ToLower(compID) }

// Dev returns the dev configuration contract of DESIGN.md: firms FIRM_A,
// FIRM_B, FIRM_C with one account each (named like the firm) and an
// order-entry session of the same CompID; drop-copy sessions FIRM_A_DC
// (ExecutionReports) and FIRM_B_DC (trades as TradeCaptureReports); a
// market-data session MD_1. Passwords are the CompIDs in lower
// case, hashed with bcrypt at cost.
func Dev(cost int) (*Directory, error) {
	d := NewDirectory()
	hash := func(comp string) ([]byte, error) {
		h, err := bcrypt.GenerateFromPassword([]byte(DevPassword(comp)), cost)
		if err != nil {
			return nil, fmt.Errorf("refdata: hash %s: %w", comp, err)
		}
		return h, nil
	}
	for i, name := range []string{"FIRM_A", "FIRM_B", "FIRM_C"} {
		firm := matching.FirmID(i + 1)
		acct := matching.AccountID(i + 2)
		d.PutFirm(Firm{ID: firm, Name: name})
		d.PutAccount(Account{Name: name, Spec: matching.AccountSpec{
			ID: acct, Firm: firm, FeeTier: 0, STP: matching.STPCancelAggressor, MaxOpenOrders: 10_000,
		}})
		h, err := hash(name)
		if err != nil {
			return nil, err
		}
		d.PutSession(Session{CompID: name, ID: matching.SessionID(i + 1), Kind: OrderEntry,
			Firm: firm, Account: acct, PasswordHash: h, CancelOnDisconnect: true})
	}
	for i, s := range []struct {
		comp string
		firm matching.FirmID
		kind SessionKind
	}{{"FIRM_A_DC", 1, DropCopy}, {"FIRM_B_DC", 2, DropCopy}, {"MD_1", 0, MarketData}} {
		h, err := hash(s.comp)
		if err != nil {
			return nil, err
		}
		d.PutSession(Session{CompID: s.comp, ID: matching.SessionID(101 + i), Kind: s.kind,
			Firm: s.firm, PasswordHash: h, TradeCaptureReports: s.comp == "FIRM_B_DC"})
	}
	return d, nil
}
