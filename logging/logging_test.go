package logging

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestNewLevels(t *testing.T) {
	tests := []struct {
		name    string
		level   string
		dev     bool
		wantErr bool
		enabled zapcore.Level // lowest level that must be enabled
	}{
		{name: "info json", level: "info", enabled: zapcore.InfoLevel},
		{name: "debug console", level: "debug", dev: true, enabled: zapcore.DebugLevel},
		{name: "warn", level: "warn", enabled: zapcore.WarnLevel},
		{name: "empty", level: "", wantErr: true},
		{name: "unknown", level: "loud", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, err := New(tt.level, tt.dev)
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !log.Core().Enabled(tt.enabled) {
				t.Errorf("%s not enabled", tt.enabled)
			}
			if tt.enabled > zapcore.DebugLevel && log.Core().Enabled(tt.enabled-1) {
				t.Errorf("%s enabled below level %s", tt.enabled-1, tt.level)
			}
		})
	}
}

func TestSubNamesEachSubsystem(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	root := zap.New(core)
	for _, name := range Subsystems {
		Sub(root, name).Info("started", zap.Int("n", 1))
	}
	entries := logs.AllUntimed()
	if len(entries) != len(Subsystems) {
		t.Fatalf("got %d entries, want %d", len(entries), len(Subsystems))
	}
	for i, e := range entries {
		if e.LoggerName != Subsystems[i] {
			t.Errorf("entry %d logger = %q, want %q", i, e.LoggerName, Subsystems[i])
		}
	}
	want := []string{"fix", "match", "journal", "md", "settle", "custody", "surv", "ops"}
	for i, name := range want {
		if Subsystems[i] != name {
			t.Errorf("Subsystems[%d] = %q, want %q", i, Subsystems[i], name)
		}
	}
}
