// Package config loads the venue's one configuration struct: defaults, then
// an optional YAML file, then VENUE_* environment variables, then Validate.
//
// Decimal options (prices, quantities, percentages) are decimal.Decimal and
// are written as quoted strings in YAML ("0.01"): an unquoted 0.01 is a YAML
// float, and a float is never accepted for money.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/shopspring/decimal"
	"github.com/spf13/viper"
	"go.uber.org/zap/zapcore"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix is the prefix of environment overrides: the key journal.max_batch
// is overridden by VENUE_JOURNAL_MAX_BATCH.
const EnvPrefix = "VENUE"

// Config is everything the venue reads at start. Keys in YAML and in the
// environment are the yaml tags below, joined by "." (file) or "_" (env).
type Config struct {
	// DataDir holds the journal and the snapshots.
	DataDir string `yaml:"data_dir" mapstructure:"data_dir"`
	// Database is the back-office PostgreSQL store (a projection of the journal).
	Database Database `yaml:"database" mapstructure:"database"`
	// Log sets the zap loggers.
	Log Log `yaml:"log" mapstructure:"log"`
	// FIX sets the FIX 4.4 acceptors.
	FIX FIX `yaml:"fix" mapstructure:"fix"`
	// Ops sets the operations HTTP endpoint.
	Ops Ops `yaml:"ops" mapstructure:"ops"`
	// Journal sets the command journal.
	Journal Journal `yaml:"journal" mapstructure:"journal"`
	// Snapshot sets engine state snapshots.
	Snapshot Snapshot `yaml:"snapshot" mapstructure:"snapshot"`
	// Runtime tunes the Go runtime of the venue process.
	Runtime Runtime `yaml:"runtime" mapstructure:"runtime"`
	// Symbols are the tradable pairs; a file that sets symbols replaces the
	// whole default list. Not overridable from the environment.
	Symbols []Symbol `yaml:"symbols" mapstructure:"symbols"`
}

// Database is the PostgreSQL connection.
type Database struct {
	// URL is a lib/pq connection URL; it may carry a password, so it is
	// redacted whenever the config is printed or logged.
	URL string `yaml:"url" mapstructure:"url"`
	// Required makes the venue refuse to start when the database does not
	// answer or cannot be migrated; false: it starts without the back
	// office, logs a warning and keeps retrying.
	Required bool `yaml:"required" mapstructure:"required"`
}

// Log sets logging.New.
type Log struct {
	// Level is the minimum level: debug, info, warn or error.
	Level string `yaml:"level" mapstructure:"level"`
	// Dev selects human-readable console output instead of JSON.
	Dev bool `yaml:"dev" mapstructure:"dev"`
}

// FIX sets the three FIX 4.4 acceptors.
type FIX struct {
	// CompID is the venue's SenderCompID (49) on every session.
	CompID string `yaml:"comp_id" mapstructure:"comp_id"`
	// OrderEntryAddr is the host:port of the order-entry acceptor.
	OrderEntryAddr string `yaml:"order_entry_addr" mapstructure:"order_entry_addr"`
	// DropCopyAddr is the host:port of the drop-copy acceptor.
	DropCopyAddr string `yaml:"drop_copy_addr" mapstructure:"drop_copy_addr"`
	// MarketDataAddr is the host:port of the market-data acceptor.
	MarketDataAddr string `yaml:"market_data_addr" mapstructure:"market_data_addr"`
	// ThrottlePerSecond bounds the application messages one order-entry
	// session may send per second; orders beyond it are rejected
	// (150=8 103=99) and the session stays up.
	ThrottlePerSecond int `yaml:"throttle_per_second" mapstructure:"throttle_per_second"`
	// LogonMaxFailures wrong passwords within LogonFailureWindow lock the
	// CompID out for LogonLockout.
	LogonMaxFailures   int           `yaml:"logon_max_failures" mapstructure:"logon_max_failures"`
	LogonFailureWindow time.Duration `yaml:"logon_failure_window" mapstructure:"logon_failure_window"`
	LogonLockout       time.Duration `yaml:"logon_lockout" mapstructure:"logon_lockout"`
	// OrderEntryMaxBacklog is how many reports may wait for one
	// order-entry session's connection before the venue disconnects it
	// (cancel-on-disconnect applies; the reports wait for its next Logon).
	OrderEntryMaxBacklog int `yaml:"order_entry_max_backlog" mapstructure:"order_entry_max_backlog"`
	// ClientWriteTimeout bounds each write to a FIX client's connection: a
	// client that takes nothing that long is disconnected (its session
	// ends; cancel-on-disconnect applies).
	ClientWriteTimeout time.Duration `yaml:"client_write_timeout" mapstructure:"client_write_timeout"`
	// MarketDataInterval is the least time between two market-data
	// updates of one feed (conflation): levels go out with their latest
	// size, trades all. 0 sends after every burst of commands.
	MarketDataInterval time.Duration `yaml:"market_data_interval" mapstructure:"market_data_interval"`
	// DropCopyMaxBacklog is how many reports a logged-on drop-copy session
	// may have queued but not yet taken off its socket before the venue
	// disconnects it (it catches up from the store when it logs on again).
	DropCopyMaxBacklog int `yaml:"drop_copy_max_backlog" mapstructure:"drop_copy_max_backlog"`
	// TLSCertFile and TLSKeyFile (PEM) switch every FIX acceptor to TLS;
	// both empty: plain TCP.
	TLSCertFile string `yaml:"tls_cert_file" mapstructure:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file" mapstructure:"tls_key_file"`
}

// Ops sets the operations HTTP endpoint (health, metrics, admin).
type Ops struct {
	// Addr is the host:port it listens on.
	Addr string `yaml:"addr" mapstructure:"addr"`
	// AdminToken authenticates admin actions (Authorization: Bearer).
	// Empty: admin actions are refused, except under `venue dev`, which
	// uses the dev token dev-ops-token.
	AdminToken string `yaml:"admin_token" mapstructure:"admin_token"`
}

// Journal sets group commit and segment files of the command journal.
type Journal struct {
	// MaxBatch is the most commands made durable by one fsync.
	MaxBatch int `yaml:"max_batch" mapstructure:"max_batch"`
	// MaxDelay is the longest a command waits for its batch to fill before
	// the batch is written anyway.
	MaxDelay time.Duration `yaml:"max_delay" mapstructure:"max_delay"`
	// SegmentSizeBytes is the size at which a journal segment file is closed
	// and a new one started.
	SegmentSizeBytes int64 `yaml:"segment_size_bytes" mapstructure:"segment_size_bytes"`
}

// Snapshot sets how often the engine state is written out, which bounds how
// much journal a restart replays.
type Snapshot struct {
	// EveryCommands is the number of journaled commands between snapshots.
	EveryCommands int64 `yaml:"every_commands" mapstructure:"every_commands"`
}

// Runtime tunes the Go runtime.
type Runtime struct {
	// GCPercent is the garbage collector's target (GOGC): a collection
	// starts when the heap has grown this many percent over what the last
	// one left live. The venue allocates per message and holds a modest
	// live heap, so collecting less often buys order throughput (4-9 % at
	// 400 against 100 in venue loadtest, BENCHMARKS.md) for a heap up to
	// five times the live one. The GOGC environment variable, when set,
	// wins; -1 turns collection off (not for production).
	GCPercent int `yaml:"gc_percent" mapstructure:"gc_percent"`
}

// Symbol is a tradable pair as configured: decimals in the asset's own
// units. The engine works in integer price and quantity units derived from
// Tick and QtyStep.
type Symbol struct {
	// Name is BASE-QUOTE, e.g. BTC-USD.
	Name string `yaml:"name" mapstructure:"name"`
	// Tick is the price increment in quote currency; every price is a multiple.
	Tick decimal.Decimal `yaml:"tick" mapstructure:"tick"`
	// QtyStep is the quantity increment in base currency; every quantity is a multiple.
	QtyStep decimal.Decimal `yaml:"qty_step" mapstructure:"qty_step"`
	// MinQty is the smallest order quantity in base currency.
	MinQty decimal.Decimal `yaml:"min_qty" mapstructure:"min_qty"`
	// RefPx is the reference price before the first trade, in quote currency.
	RefPx decimal.Decimal `yaml:"ref_px" mapstructure:"ref_px"`
	// BandPct is the price band around the reference price, in percent
	// (20 means +-20 %), to a basis point at most.
	BandPct decimal.Decimal `yaml:"band_pct" mapstructure:"band_pct"`
}

// Base is the base asset of the pair (BTC in BTC-USD).
func (s Symbol) Base() string {
	base, _, _ := strings.Cut(s.Name, "-")
	return base
}

// Quote is the quote asset of the pair (USD in BTC-USD).
func (s Symbol) Quote() string {
	_, quote, _ := strings.Cut(s.Name, "-")
	return quote
}

// Default is the dev configuration contract of DESIGN.md; keep these values
// stable, tools and tests rely on them.
func Default() Config {
	return Config{
		DataDir:  "./venue-data",
		Database: Database{URL: "postgres://postgres@127.0.0.1:5432/venue?sslmode=disable"},
		Log:      Log{Level: "info", Dev: false},
		FIX: FIX{
			CompID:         "VENUE",
			OrderEntryAddr: "127.0.0.1:9878",
			DropCopyAddr:   "127.0.0.1:9879",
			MarketDataAddr: "127.0.0.1:9880",

			ThrottlePerSecond:  100_000,
			LogonMaxFailures:   5,
			LogonFailureWindow: 5 * time.Minute,
			LogonLockout:       15 * time.Minute,
			DropCopyMaxBacklog: 100_000,

			OrderEntryMaxBacklog: 50_000,
			MarketDataInterval:   5 * time.Millisecond,
			ClientWriteTimeout:   60 * time.Second,
		},
		Ops: Ops{Addr: "127.0.0.1:8080"},
		Journal: Journal{
			MaxBatch:         4096,
			MaxDelay:         time.Millisecond,
			SegmentSizeBytes: 64 << 20,
		},
		Snapshot: Snapshot{EveryCommands: 1_000_000},
		Runtime:  Runtime{GCPercent: 400},
		Symbols: []Symbol{{
			Name:    "BTC-USD",
			Tick:    decimal.RequireFromString("0.01"),
			QtyStep: decimal.RequireFromString("0.00000001"),
			MinQty:  decimal.RequireFromString("0.0001"),
			RefPx:   decimal.RequireFromString("60000.00"),
			BandPct: decimal.RequireFromString("20"),
		}},
	}
}

// Load returns the effective configuration: Default, overlaid by the YAML
// file at path (skipped when path is ""), overlaid by VENUE_* environment
// variables, then validated. Unknown keys in the file are errors.
func Load(path string) (*Config, error) {
	v := viper.New()
	if err := setDefaults(v); err != nil {
		return nil, err
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("config: read %s: %w", path, err)
		}
	}
	var cfg Config
	err := v.UnmarshalExact(&cfg, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		decimalHook,
		exactIntHook,
		mapstructure.StringToTimeDurationHookFunc(),
	)))
	if err != nil {
		return nil, decodeError(err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// setDefaults registers every key of Default with viper, which is also what
// makes each key overridable from the environment.
func setDefaults(v *viper.Viper) error {
	b, err := yaml.Marshal(Default())
	if err != nil {
		return fmt.Errorf("config: defaults: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("config: defaults: %w", err)
	}
	for k, val := range m {
		v.SetDefault(k, val)
	}
	return nil
}

var decimalType = reflect.TypeFor[decimal.Decimal]()

// decimalHook turns strings and integers into decimal.Decimal and refuses
// floats: a YAML 0.01 has already been through float64.
func decimalHook(from, to reflect.Type, data any) (any, error) {
	if to != decimalType {
		return data, nil
	}
	switch x := data.(type) {
	case string:
		d, err := decimal.NewFromString(strings.TrimSpace(x))
		if err != nil {
			return nil, fmt.Errorf("not a decimal: %q", x)
		}
		return d, nil
	case int:
		return decimal.NewFromInt(int64(x)), nil
	case int64:
		return decimal.NewFromInt(x), nil
	case uint64:
		return decimal.NewFromUint64(x), nil
	case float32, float64:
		return nil, errors.New("decimals must be quoted strings (\"0.01\"), not YAML floats")
	}
	return data, nil
}

// exactIntHook refuses a float for an integer option instead of letting the
// weak decoder truncate it.
func exactIntHook(from, to reflect.Type, data any) (any, error) {
	switch to.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
	default:
		return data, nil
	}
	if to == reflect.TypeFor[time.Duration]() {
		if _, ok := data.(string); !ok {
			return nil, fmt.Errorf("must be a duration string like \"1ms\", got %v", data)
		}
		return data, nil
	}
	if f, ok := data.(float64); ok && f != math.Trunc(f) {
		return nil, fmt.Errorf("must be an integer, got %v", f)
	}
	return data, nil
}

// decodeError reshapes mapstructure's error list into "config: key: problem"
// lines.
func decodeError(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "decoding failed due to the following error(s):")
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		m := quotedKey.FindStringSubmatch(l)
		if m == nil {
			lines = append(lines, "config: "+l)
			continue
		}
		key, problem := strings.ToLower(m[1]), strings.TrimSpace(m[2])
		if unknown, ok := strings.CutPrefix(problem, "has invalid keys: "); ok {
			for _, k := range strings.Split(unknown, ", ") {
				if key != "" {
					k = key + "." + k
				}
				lines = append(lines, "config: "+k+": unknown key")
			}
			continue
		}
		lines = append(lines, "config: "+key+": "+problem)
	}
	return errors.New(strings.Join(lines, "\n"))
}

var quotedKey = regexp.MustCompile(`^'([^']*)'\s*(.*)$`)

// Validate checks every option and returns one error per bad key, each
// naming the key ("config: journal.max_batch: must be > 0").
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...)))
	}

	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	if u, err := url.Parse(c.Database.URL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		bad("database.url", "must be a postgres://host/db URL")
	}
	if _, err := zapcore.ParseLevel(c.Log.Level); err != nil || c.Log.Level == "" {
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.FIX.CompID == "" || strings.ContainsAny(c.FIX.CompID, " \x01=|") {
		bad("fix.comp_id", "must be non-empty, without spaces, SOH, '=' or '|'")
	}
	addrs := []struct{ key, addr string }{
		{"fix.order_entry_addr", c.FIX.OrderEntryAddr},
		{"fix.drop_copy_addr", c.FIX.DropCopyAddr},
		{"fix.market_data_addr", c.FIX.MarketDataAddr},
		{"ops.addr", c.Ops.Addr},
	}
	seen := map[string]string{}
	for _, a := range addrs {
		if err := checkAddr(a.addr); err != nil {
			bad(a.key, "%v", err)
			continue
		}
		if _, port, _ := net.SplitHostPort(a.addr); port != "0" {
			if other, dup := seen[a.addr]; dup {
				bad(a.key, "%s is also %s", a.addr, other)
			}
			seen[a.addr] = a.key
		}
	}

	if c.FIX.ThrottlePerSecond <= 0 || c.FIX.ThrottlePerSecond > 10_000_000 {
		bad("fix.throttle_per_second", "must be in [1, 10000000]")
	}
	if c.FIX.ClientWriteTimeout < 100*time.Millisecond || c.FIX.ClientWriteTimeout > time.Hour {
		bad("fix.client_write_timeout", "must be in [100ms, 1h]")
	}
	if c.FIX.MarketDataInterval < 0 || c.FIX.MarketDataInterval > time.Second {
		bad("fix.market_data_interval", "must be in [0, 1s]")
	}
	if c.FIX.OrderEntryMaxBacklog <= 0 {
		bad("fix.order_entry_max_backlog", "must be > 0")
	}
	if c.FIX.DropCopyMaxBacklog <= 0 {
		bad("fix.drop_copy_max_backlog", "must be > 0")
	}
	if c.FIX.LogonMaxFailures <= 0 {
		bad("fix.logon_max_failures", "must be > 0")
	}
	if c.FIX.LogonFailureWindow <= 0 {
		bad("fix.logon_failure_window", "must be > 0")
	}
	if c.FIX.LogonLockout <= 0 {
		bad("fix.logon_lockout", "must be > 0")
	}
	if (c.FIX.TLSCertFile == "") != (c.FIX.TLSKeyFile == "") {
		bad("fix.tls_cert_file", "tls_cert_file and tls_key_file must be set together")
	}
	if c.Journal.MaxBatch <= 0 {
		bad("journal.max_batch", "must be > 0")
	} else if c.Journal.MaxBatch > MaxJournalBatch {
		bad("journal.max_batch", "must be <= %d", MaxJournalBatch)
	}
	if c.Journal.MaxDelay <= 0 {
		bad("journal.max_delay", "must be > 0")
	} else if c.Journal.MaxDelay > MaxJournalDelay {
		bad("journal.max_delay", "must be <= %s", MaxJournalDelay)
	}
	if c.Journal.SegmentSizeBytes < MinSegmentSizeBytes || c.Journal.SegmentSizeBytes > MaxSegmentSizeBytes {
		bad("journal.segment_size_bytes", "must be in [%d, %d]", MinSegmentSizeBytes, MaxSegmentSizeBytes)
	}
	if c.Snapshot.EveryCommands <= 0 {
		bad("snapshot.every_commands", "must be > 0")
	}
	if c.Runtime.GCPercent < -1 || c.Runtime.GCPercent == 0 || c.Runtime.GCPercent > 10_000 {
		bad("runtime.gc_percent", "must be -1 (off) or 1..10000")
	}

	if len(c.Symbols) == 0 {
		bad("symbols", "must list at least one symbol")
	}
	names := map[string]bool{}
	for i, s := range c.Symbols {
		key := "symbols[" + strconv.Itoa(i) + "]"
		errs = append(errs, s.validate(key)...)
		if names[s.Name] {
			bad(key+".name", "duplicate symbol %q", s.Name)
		}
		names[s.Name] = true
	}
	return errors.Join(errs...)
}

// Limits on options; a value outside is a config error, not a surprise later.
const (
	MaxJournalBatch     = 1 << 20
	MaxJournalDelay     = time.Second
	MinSegmentSizeBytes = 1 << 20
	// MaxSegmentSizeBytes is within journal.MaxSegmentSize (2 GiB, what the
	// journal reads back): it used to be 4 GiB, and a venue that reached
	// 2 GiB in a segment would not have started again.
	MaxSegmentSizeBytes = 1 << 30
)

var symbolName = regexp.MustCompile(`^[A-Z0-9]{2,12}-[A-Z0-9]{2,12}$`)

func (s Symbol) validate(key string) []error {
	var errs []error
	bad := func(k, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s.%s: %s", key, k, fmt.Sprintf(format, args...)))
	}
	if !symbolName.MatchString(s.Name) {
		bad("name", "must be BASE-QUOTE in capitals, e.g. BTC-USD, got %q", s.Name)
	}
	positive := func(k string, d decimal.Decimal) bool {
		if !d.IsPositive() {
			bad(k, "must be > 0")
			return false
		}
		return true
	}
	tickOK := positive("tick", s.Tick)
	stepOK := positive("qty_step", s.QtyStep)
	if positive("min_qty", s.MinQty) && stepOK && !isMultiple(s.MinQty, s.QtyStep) {
		bad("min_qty", "%s is not a multiple of qty_step %s", s.MinQty, s.QtyStep)
	}
	if positive("ref_px", s.RefPx) && tickOK {
		if !isMultiple(s.RefPx, s.Tick) {
			bad("ref_px", "%s is not a multiple of tick %s", s.RefPx, s.Tick)
		} else if !s.RefPx.Div(s.Tick).LessThanOrEqual(decimal.NewFromInt(math.MaxInt64)) {
			bad("ref_px", "%s is more than int64 ticks", s.RefPx)
		}
	}
	hundred := decimal.NewFromInt(100)
	if !s.BandPct.IsPositive() || !s.BandPct.LessThan(hundred) {
		bad("band_pct", "must be > 0 and < 100")
	} else if !isMultiple(s.BandPct, decimal.RequireFromString("0.01")) {
		bad("band_pct", "must be a whole number of basis points (0.01 %%)")
	}
	return errs
}

func isMultiple(x, unit decimal.Decimal) bool { return x.Mod(unit).IsZero() }

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port, got %q", addr)
	}
	if host == "" {
		return fmt.Errorf("needs a host (use 127.0.0.1 or 0.0.0.0), got %q", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("port must be 0..65535, got %q", port)
	}
	return nil
}

// YAML renders c as a loadable YAML file with secrets redacted: the
// database password becomes "xxxxx".
func (c *Config) YAML() ([]byte, error) {
	out := *c
	out.Database.URL = RedactURL(c.Database.URL)
	if out.Ops.AdminToken != "" {
		out.Ops.AdminToken = "xxxxx"
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("config: render yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: render yaml: %w", err)
	}
	return buf.Bytes(), nil
}

// RedactURL hides the password of a connection URL, for logs and printing.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable url>"
	}
	return u.Redacted()
}
