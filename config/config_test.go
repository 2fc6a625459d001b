package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"venue/journal"
)

// cleanEnv hides VENUE_* variables of the caller's shell from the test
// (viper ignores empty variables).
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, EnvPrefix+"_") {
			t.Setenv(k, "")
		}
	}
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "venue.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func render(t *testing.T, c *Config) string {
	t.Helper()
	b, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSampleIsTheDefault(t *testing.T) {
	cleanEnv(t)
	got, err := Load("venue.sample.yaml")
	if err != nil {
		t.Fatalf("load sample: %v", err)
	}
	want := Default()
	if render(t, got) != render(t, &want) {
		t.Fatalf("sample differs from Default():\n%s\nwant:\n%s", render(t, got), render(t, &want))
	}
}

func TestDefaultsAreTheDevContract(t *testing.T) {
	cleanEnv(t)
	c, err := Load("")
	if err != nil {
		t.Fatalf("load without file: %v", err)
	}
	str := []struct{ name, got, want string }{
		{"data_dir", c.DataDir, "./venue-data"},
		{"database.url", c.Database.URL, "postgres://postgres@127.0.0.1:5432/venue?sslmode=disable"},
		{"fix.comp_id", c.FIX.CompID, "VENUE"},
		{"fix.order_entry_addr", c.FIX.OrderEntryAddr, "127.0.0.1:9878"},
		{"fix.drop_copy_addr", c.FIX.DropCopyAddr, "127.0.0.1:9879"},
		{"fix.market_data_addr", c.FIX.MarketDataAddr, "127.0.0.1:9880"},
		{"ops.addr", c.Ops.Addr, "127.0.0.1:8080"},
		{"symbols[0].name", c.Symbols[0].Name, "BTC-USD"},
		{"symbols[0].base", c.Symbols[0].Base(), "BTC"},
		{"symbols[0].quote", c.Symbols[0].Quote(), "USD"},
	}
	for _, tt := range str {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if c.Journal.MaxBatch != 4096 || c.Journal.MaxDelay != time.Millisecond ||
		c.Journal.SegmentSizeBytes != 64<<20 || c.Snapshot.EveryCommands != 1_000_000 {
		t.Errorf("journal/snapshot = %+v %+v", c.Journal, c.Snapshot)
	}
	if len(c.Symbols) != 1 {
		t.Fatalf("symbols = %d, want 1", len(c.Symbols))
	}
	dec := []struct {
		name string
		got  decimal.Decimal
		want string
	}{
		{"tick", c.Symbols[0].Tick, "0.01"},
		{"qty_step", c.Symbols[0].QtyStep, "0.00000001"},
		{"min_qty", c.Symbols[0].MinQty, "0.0001"},
		{"ref_px", c.Symbols[0].RefPx, "60000"},
		{"band_pct", c.Symbols[0].BandPct, "20"},
	}
	for _, tt := range dec {
		if !tt.got.Equal(decimal.RequireFromString(tt.want)) {
			t.Errorf("symbols[0].%s = %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}

func TestBadValuesNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // substring of the error
	}{
		{"zero batch", "journal: {max_batch: 0}", "config: journal.max_batch: must be > 0"},
		{"huge batch", "journal: {max_batch: 2000000}", "config: journal.max_batch: must be <= 1048576"},
		{"fractional batch", "journal: {max_batch: 1.5}", "config: journal.max_batch: must be an integer"},
		{"text batch", "journal: {max_batch: many}", "config: journal.max_batch: cannot parse"},
		{"zero delay", "journal: {max_delay: 0s}", "config: journal.max_delay: must be > 0"},
		{"bare number delay", "journal: {max_delay: 5}", "config: journal.max_delay: must be a duration string"},
		{"small segment", "journal: {segment_size_bytes: 4096}", "config: journal.segment_size_bytes: must be in"},
		{"large segment", "journal: {segment_size_bytes: 2147483648}", "config: journal.segment_size_bytes: must be in"},
		{"no snapshots", "snapshot: {every_commands: 0}", "config: snapshot.every_commands: must be > 0"},
		{"gc percent zero", "runtime: {gc_percent: 0}", "config: runtime.gc_percent: must be -1 (off) or 1..10000"},
		{"gc percent huge", "runtime: {gc_percent: 20000}", "config: runtime.gc_percent: must be -1 (off) or 1..10000"},
		{"empty data dir", "data_dir: ''", "config: data_dir: must not be empty"},
		{"mysql", "database: {url: 'mysql://x/y'}", "config: database.url: must be a postgres"},
		{"level", "log: {level: loud}", "config: log.level: must be debug, info, warn or error"},
		{"comp id", "fix: {comp_id: ''}", "config: fix.comp_id: must be non-empty"},
		{"addr without port", "fix: {order_entry_addr: '127.0.0.1'}", "config: fix.order_entry_addr: must be host:port"},
		{"addr port range", "ops: {addr: '127.0.0.1:70000'}", "config: ops.addr: port must be 0..65535"},
		{"same addr twice", "fix: {drop_copy_addr: '127.0.0.1:9878'}", "config: fix.drop_copy_addr: 127.0.0.1:9878 is also fix.order_entry_addr"},
		{"unknown top key", "journa: {max_batch: 1}", "config: journa: unknown key"},
		{"unknown nested key", "journal: {max_batch_size: 1}", "config: journal.max_batch_size: unknown key"},
		{"no symbols", "symbols: []", "config: symbols: must list at least one symbol"},
		{"float decimal", symbol("tick: 0.01"), `config: symbols[0].tick: decimals must be quoted strings`},
		{"not a decimal", symbol(`tick: "one cent"`), `config: symbols[0].tick: not a decimal`},
		{"zero tick", symbol(`tick: "0"`), "config: symbols[0].tick: must be > 0"},
		{"negative step", symbol(`qty_step: "-0.00000001"`), "config: symbols[0].qty_step: must be > 0"},
		{"min qty off step", symbol(`min_qty: "0.000000015"`), "config: symbols[0].min_qty: 0.000000015 is not a multiple of qty_step"},
		{"ref px off tick", symbol(`ref_px: "60000.005"`), "config: symbols[0].ref_px: 60000.005 is not a multiple of tick"},
		{"ref px too many ticks", symbol(`ref_px: "1e30"`), "config: symbols[0].ref_px: 1000000000000000000000000000000 is more than int64 ticks"},
		{"band 100", symbol(`band_pct: "100"`), "config: symbols[0].band_pct: must be > 0 and < 100"},
		{"band sub bp", symbol(`band_pct: "20.005"`), "config: symbols[0].band_pct: must be a whole number of basis points"},
		{"bad name", symbol(`name: btc/usd`), `config: symbols[0].name: must be BASE-QUOTE`},
		{"duplicate symbol", symbol("") + "\n" + strings.TrimPrefix(symbol(""), "symbols:\n"), `config: symbols[1].name: duplicate symbol "BTC-USD"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			_, err := Load(writeFile(t, tt.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// symbol is a valid one-symbol list with one line replaced (or added).
func symbol(line string) string {
	fields := []string{`name: BTC-USD`, `tick: "0.01"`, `qty_step: "0.00000001"`,
		`min_qty: "0.0001"`, `ref_px: "60000.00"`, `band_pct: "20"`}
	key, _, _ := strings.Cut(line, ":")
	for i, f := range fields {
		if k, _, _ := strings.Cut(f, ":"); k == key {
			fields[i] = line
		}
	}
	return "symbols:\n  - " + strings.Join(fields, "\n    ")
}

func TestValidateReportsEveryBadKey(t *testing.T) {
	c := Default()
	c.Journal.MaxBatch = 0
	c.Ops.Addr = "nowhere"
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"config: journal.max_batch:", "config: ops.addr:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	cleanEnv(t)
	path := writeFile(t, "data_dir: /from/file\njournal: {max_batch: 100}\n")
	t.Setenv("VENUE_DATABASE_URL", "postgres://postgres@db.example:5432/other?sslmode=disable")
	t.Setenv("VENUE_DATA_DIR", "/from/env")
	t.Setenv("VENUE_JOURNAL_MAX_DELAY", "5ms")
	t.Setenv("VENUE_LOG_DEV", "true")
	t.Setenv("VENUE_DATABASE_REQUIRED", "true")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/from/env" {
		t.Errorf("data_dir = %q: the environment must win over the file", c.DataDir)
	}
	if c.Database.URL != "postgres://postgres@db.example:5432/other?sslmode=disable" {
		t.Errorf("database.url = %q", c.Database.URL)
	}
	if !c.Database.Required {
		t.Errorf("database.required = false: VENUE_DATABASE_REQUIRED=true must set it")
	}
	if c.Journal.MaxDelay != 5*time.Millisecond || !c.Log.Dev {
		t.Errorf("max_delay = %s, log.dev = %v", c.Journal.MaxDelay, c.Log.Dev)
	}
	if c.Journal.MaxBatch != 100 {
		t.Errorf("journal.max_batch = %d, want 100 from the file", c.Journal.MaxBatch)
	}
	if c.Journal.SegmentSizeBytes != 64<<20 {
		t.Errorf("journal.segment_size_bytes = %d, want the default", c.Journal.SegmentSizeBytes)
	}
}

func TestBadEnvironmentNamesTheKey(t *testing.T) {
	cleanEnv(t)
	t.Setenv("VENUE_JOURNAL_MAX_BATCH", "lots")
	_, err := Load("")
	if err == nil || !strings.Contains(err.Error(), "config: journal.max_batch:") {
		t.Fatalf("error = %v, want it to name journal.max_batch", err)
	}
}

func TestMissingFile(t *testing.T) {
	cleanEnv(t)
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"))
	if err == nil || !strings.Contains(err.Error(), "config: read ") {
		t.Fatalf("error = %v", err)
	}
}

func TestYAMLHidesSecretsAndLoadsBack(t *testing.T) {
	cleanEnv(t)
	t.Setenv("VENUE_DATABASE_URL", "postgres://venue:hunter2@127.0.0.1:5432/venue?sslmode=disable")
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	out := render(t, c)
	if strings.Contains(out, "hunter2") {
		t.Fatalf("printed config shows the password:\n%s", out)
	}
	if !strings.Contains(out, `tick: "0.01"`) {
		t.Fatalf("decimals must print quoted:\n%s", out)
	}
	t.Setenv("VENUE_DATABASE_URL", "")
	back, err := Load(writeFile(t, out))
	if err != nil {
		t.Fatalf("printed config does not load: %v\n%s", err, out)
	}
	if render(t, back) != out {
		t.Fatalf("round trip differs:\n%s\nwant:\n%s", render(t, back), out)
	}
}

// The largest segment size the configuration allows is one the journal
// takes.
func TestSegmentSizeFitsTheJournal(t *testing.T) {
	if MaxSegmentSizeBytes > journal.MaxSegmentSize {
		t.Fatalf("the configuration allows segments of %d bytes; the journal at most %d", MaxSegmentSizeBytes, journal.MaxSegmentSize)
	}
}
