// Package ops is the operations HTTP endpoint of a running venue: health
// (/healthz, /readyz), Prometheus metrics (/metrics), and authenticated
// admin actions that go through the sequencer like every other command
// (halt and resume a symbol, an account's kill switch, mass cancel) or act
// on a FIX session (disconnect). Every admin action, accepted or refused,
// is written to the audit trail with who, what, when and the outcome.
package ops

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"venue/fix"
	"venue/matching"
	"venue/refdata"
	"venue/sequencer"
)

// Submitter is the sequencer as the admin actions see it.
type Submitter interface {
	Submit(ctx context.Context, cmd *matching.Command) (sequencer.Result, error)
}

// AuditEntry is one admin action.
type AuditEntry struct {
	Time     time.Time `json:"time"`
	Operator string    `json:"operator"`
	Action   string    `json:"action"`
	Target   string    `json:"target"`
	Params   string    `json:"params,omitempty"`
	Outcome  string    `json:"outcome"` // "ok" or why it was refused
	Seq      uint64    `json:"seq,omitempty"`
}

// Auditor records admin actions; Record must not return before the entry
// is durable.
type Auditor interface {
	Record(ctx context.Context, e AuditEntry) error
}

// Sources are what the endpoint reports on and acts through.
type Sources struct {
	Seq       *sequencer.Sequencer
	Submit    Submitter
	Universe  *refdata.Universe
	Directory *refdata.Directory
	OE        *fix.OrderEntry
	OEAcc     *fix.Acceptor
	DC        *fix.DropCopy
	DCAcc     *fix.Acceptor
	MD        *fix.MarketData
	// Users authenticates a venue user (HTTP Basic) and returns its role;
	// nil: only the bearer token is accepted.
	Users func(ctx context.Context, username, password string) (role string, err error)
	// Ready says why the venue is not ready ("" when it is).
	Ready func() string
	// Extra metrics in Prometheus text format, appended (e.g. projector lag).
	Extra []func(w *MetricsWriter)
}

// Config configures the endpoint.
type Config struct {
	Addr string
	// AdminToken authenticates admin actions (Authorization: Bearer ...).
	// Empty: admin actions are refused.
	AdminToken string
}

// Server is the running endpoint.
type Server struct {
	cfg   Config
	src   Sources
	audit Auditor
	log   *zap.Logger
	depth *depthBook
	ln    net.Listener
	http  *http.Server
	done  chan error
}

// Start listens on cfg.Addr. depthSub is a sequencer subscription the
// endpoint keeps per-symbol book depth from (subscribe before any command
// after recovery, and seed with the engine's book).
func Start(cfg Config, src Sources, audit Auditor, depth *DepthFollower, log *zap.Logger) (*Server, error) {
	if log == nil {
		log = zap.NewNop()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("ops: listen %s: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, src: src, audit: audit, log: log, ln: ln, done: make(chan error, 1)}
	if depth != nil {
		s.depth = depth.book
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /metrics", s.metrics)
	mux.HandleFunc("POST /admin/symbols/{symbol}/halt", s.admin("halt", s.halt))
	mux.HandleFunc("POST /admin/symbols/{symbol}/resume", s.admin("resume", s.resume))
	mux.HandleFunc("POST /admin/accounts/{account}/kill", s.admin("kill", s.kill))
	mux.HandleFunc("POST /admin/accounts/{account}/unkill", s.admin("unkill", s.unkill))
	mux.HandleFunc("POST /admin/mass-cancel", s.admin("mass-cancel", s.massCancel))
	mux.HandleFunc("POST /admin/sessions/{comp}/disconnect", s.admin("disconnect", s.disconnect))
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10}
	go func() { s.done <- s.http.Serve(ln) }()
	return s, nil
}

// Addr is where it listens.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the endpoint.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	why := ""
	select {
	case <-s.src.Seq.Done():
		why = "sequencer stopped"
		if err := s.src.Seq.Err(); err != nil {
			why += ": " + err.Error()
		}
	default:
	}
	if why == "" && s.src.Ready != nil {
		why = s.src.Ready()
	}
	if why != "" {
		http.Error(w, "not ready: "+why, http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// result is the JSON answer of an admin action.
type result struct {
	OK      bool   `json:"ok"`
	Action  string `json:"action"`
	Target  string `json:"target"`
	Outcome string `json:"outcome"`
	Seq     uint64 `json:"seq,omitempty"`
	Count   int64  `json:"count,omitempty"`
}

// actionError is a refusal with its HTTP status.
type actionError struct {
	status int
	msg    string
}

func (e *actionError) Error() string { return e.msg }

func refuse(status int, format string, args ...any) error {
	return &actionError{status, fmt.Sprintf(format, args...)}
}

// admin wraps an action: authentication, the operator's name (header
// X-Operator, required), audit of the outcome, the JSON answer.
func (s *Server) admin(name string, act func(r *http.Request, res *result) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		res := result{Action: name}
		for _, k := range []string{"symbol", "account", "comp"} {
			if v := r.PathValue(k); v != "" {
				res.Target = v
			}
		}
		status := http.StatusOK
		operator, err := s.authenticate(r)
		if err == nil {
			err = act(r, &res)
		}
		res.OK = err == nil
		res.Outcome = "ok"
		if err != nil {
			res.Outcome = err.Error()
			status = http.StatusInternalServerError
			var ae *actionError
			if errors.As(err, &ae) {
				status = ae.status
			}
		}
		if status != http.StatusUnauthorized {
			entry := AuditEntry{Time: time.Now().UTC(), Operator: operator, Action: name, Target: res.Target,
				Params: r.URL.RawQuery, Outcome: res.Outcome, Seq: res.Seq}
			if aerr := s.audit.Record(r.Context(), entry); aerr != nil {
				s.log.Error("audit not recorded", zap.String("action", name), zap.Error(aerr))
				if res.OK {
					res.Outcome += " (but the audit record failed: " + aerr.Error() + ")"
				}
				status = http.StatusInternalServerError
			}
		}
		s.log.Info("admin action", zap.String("operator", operator), zap.String("action", name),
			zap.String("target", res.Target), zap.String("outcome", res.Outcome))
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="venue ops"`)
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(res)
	}
}

// authenticate returns who acts: a venue user logged in with HTTP Basic
// (role admin or operator; the audit names the user), or the holder of the
// admin bearer token, who must name themselves in X-Operator.
func (s *Server) authenticate(r *http.Request) (string, error) {
	operator := strings.TrimSpace(r.Header.Get("X-Operator"))
	if user, pass, ok := r.BasicAuth(); ok {
		if s.src.Users == nil {
			return user, refuse(http.StatusUnauthorized, "user login needs the back office (PostgreSQL): use the admin token")
		}
		role, err := s.src.Users(r.Context(), user, pass)
		if err != nil {
			return user, refuse(http.StatusUnauthorized, "wrong username or password, or the user is not active")
		}
		if role != "admin" && role != "operator" {
			return user, refuse(http.StatusForbidden, "user %s is a %s: only admins and operators act", user, role)
		}
		return user, nil
	}
	if s.cfg.AdminToken == "" {
		return operator, refuse(http.StatusForbidden, "admin actions are disabled: set ops.admin_token, or log in as a venue user")
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AdminToken)) != 1 {
		return operator, refuse(http.StatusUnauthorized, "missing or wrong bearer token (or log in as a venue user)")
	}
	if operator == "" || len(operator) > 64 {
		return operator, refuse(http.StatusBadRequest, "header X-Operator must name the operator (1 to 64 characters)")
	}
	return operator, nil
}

func (s *Server) symbol(r *http.Request, res *result) (*refdata.Symbol, error) {
	name := r.PathValue("symbol")
	res.Target = name
	sym, ok := s.src.Universe.SymbolByName(name)
	if !ok {
		return nil, refuse(http.StatusNotFound, "unknown symbol %q", name)
	}
	return sym, nil
}

func (s *Server) account(r *http.Request, res *result) (refdata.Account, error) {
	name := r.PathValue("account")
	res.Target = name
	a, ok := s.src.Directory.AccountByName(name)
	if !ok {
		return a, refuse(http.StatusNotFound, "unknown account %q", name)
	}
	return a, nil
}

// apply submits an admin command and checks the engine took it.
func (s *Server) apply(r *http.Request, res *result, cmd *matching.Command, want matching.EventKind) error {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	out, err := s.src.Submit.Submit(ctx, cmd)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return refuse(http.StatusGatewayTimeout, "outcome unknown: queued but not confirmed in time; it may still be applied (check the journal)")
	}
	if err != nil {
		return refuse(http.StatusServiceUnavailable, "not applied: %v", err)
	}
	res.Seq = out.Seq
	for _, ev := range out.Events {
		if ev.Kind == matching.EvRefData && ev.Reason != 0 {
			return refuse(http.StatusUnprocessableEntity, "refused by the engine: %s", ev.Reason)
		}
		if ev.Kind == want {
			if want == matching.EvMassCanceled {
				if ev.Reason == matching.RejUnknownAccount {
					return refuse(http.StatusUnprocessableEntity, "refused by the engine: %s", ev.Reason)
				}
				res.Count = ev.Count
			}
			return nil
		}
	}
	return refuse(http.StatusUnprocessableEntity, "the engine did not apply it")
}

func (s *Server) halt(r *http.Request, res *result) error {
	sym, err := s.symbol(r, res)
	if err != nil {
		return err
	}
	cancel := r.URL.Query().Get("cancel") == "true"
	return s.apply(r, res, &matching.Command{Kind: matching.CmdSetStatus, Symbol: sym.Spec.ID,
		Status: matching.StatusHalted, Flag: cancel}, matching.EvSymbolStatus)
}

func (s *Server) resume(r *http.Request, res *result) error {
	sym, err := s.symbol(r, res)
	if err != nil {
		return err
	}
	return s.apply(r, res, &matching.Command{Kind: matching.CmdSetStatus, Symbol: sym.Spec.ID,
		Status: matching.StatusOpen}, matching.EvSymbolStatus)
}

func (s *Server) kill(r *http.Request, res *result) error {
	a, err := s.account(r, res)
	if err != nil {
		return err
	}
	return s.apply(r, res, &matching.Command{Kind: matching.CmdKillSwitch, Account: a.Spec.ID, Flag: true}, matching.EvKillSwitch)
}

func (s *Server) unkill(r *http.Request, res *result) error {
	a, err := s.account(r, res)
	if err != nil {
		return err
	}
	return s.apply(r, res, &matching.Command{Kind: matching.CmdKillSwitch, Account: a.Spec.ID, Flag: false}, matching.EvKillSwitch)
}

// massCancel: ?account=NAME&symbol=NAME&side=buy|sell, each optional;
// none cancels every order of the venue, and needs ?all=true.
func (s *Server) massCancel(r *http.Request, res *result) error {
	q := r.URL.Query()
	cmd := matching.Command{Kind: matching.CmdMassCancel, Reason: matching.ReasonAdmin}
	var target []string
	if name := q.Get("account"); name != "" {
		a, ok := s.src.Directory.AccountByName(name)
		if !ok {
			return refuse(http.StatusNotFound, "unknown account %q", name)
		}
		cmd.Account = a.Spec.ID
		target = append(target, "account "+name)
	}
	if name := q.Get("symbol"); name != "" {
		sym, ok := s.src.Universe.SymbolByName(name)
		if !ok {
			return refuse(http.StatusNotFound, "unknown symbol %q", name)
		}
		cmd.Symbol = sym.Spec.ID
		target = append(target, "symbol "+name)
	}
	switch q.Get("side") {
	case "":
	case "buy":
		cmd.Side = matching.Buy
		target = append(target, "buys")
	case "sell":
		cmd.Side = matching.Sell
		target = append(target, "sells")
	default:
		return refuse(http.StatusBadRequest, "side must be buy or sell, got %q", q.Get("side"))
	}
	if len(target) == 0 {
		if q.Get("all") != "true" {
			return refuse(http.StatusBadRequest, "say account=, symbol= or side=, or all=true to cancel every order of the venue")
		}
		target = append(target, "all")
	}
	res.Target = strings.Join(target, ", ")
	return s.apply(r, res, &cmd, matching.EvMassCanceled)
}

func (s *Server) disconnect(r *http.Request, res *result) error {
	comp := r.PathValue("comp")
	res.Target = comp
	info, ok := s.src.Directory.Session(comp)
	if !ok {
		return refuse(http.StatusNotFound, "unknown session %q", comp)
	}
	var found bool
	switch info.Kind {
	case refdata.OrderEntry:
		found = s.src.OE != nil && s.src.OE.Disconnect(s.src.OEAcc, comp)
	case refdata.DropCopy:
		found = s.src.DC != nil && s.src.DC.Disconnect(comp)
	default:
		return refuse(http.StatusUnprocessableEntity, "%s sessions cannot be disconnected from here yet", info.Kind)
	}
	if !found {
		return refuse(http.StatusConflict, "session %s is not connected", comp)
	}
	return nil
}
