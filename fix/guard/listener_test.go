package guard

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// pair returns a client connection and the guarded server side of it.
func pair(t *testing.T, opts Options) (net.Conn, net.Conn, *Listener, *observer.ObservedLogs) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	ln := Listen(inner, opts, zap.New(core))
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server, ln, logs
}

// readAll reads from the guarded side until it fails, with a small buffer
// so frames arrive in pieces.
func readAll(t *testing.T, c net.Conn) ([]byte, error) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got bytes.Buffer
	buf := make([]byte, 7)
	for {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			return got.Bytes(), err
		}
	}
}

func TestConnDispositions(t *testing.T) {
	logon := frameOf("35=A|34=1|49=A|52=20260101-12:00:00|56=VENUE|98=0|108=30|")
	hb := frameOf(hdr)
	forwarded := frameOf(hdr + "0=x|")
	garbled := badChecksum(frameOf(hdr))
	crasher := frameOf("35=0|34=|49=A|52=20260101-12:00:00|56=VENUE|")
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	tests := []struct {
		name    string
		opts    Options
		input   []byte
		want    []byte   // what the server reads
		cut     error    // the rule that cut, nil if the client's EOF ended it
		actions []string // logged actions, in order
	}{
		{name: "valid frames pass whole", input: cat(logon, hb, hb), want: cat(logon, hb, hb)},
		{name: "garbled frame dropped", input: cat(logon, garbled, hb), want: cat(logon, hb), actions: []string{"drop"}},
		{name: "junk dropped", input: cat(logon, []byte("xx"), hb), want: cat(logon, hb), actions: []string{"drop"}},
		{name: "anomaly forwarded", input: cat(logon, forwarded, hb), want: cat(logon, forwarded, hb), actions: []string{"forward"}},
		{name: "crasher cut", input: cat(logon, crasher, hb), want: logon, cut: ErrEmptyValue, actions: []string{"cut"}},
		{name: "first frame garbled cut", input: cat(garbled, hb), cut: ErrBadChecksum, actions: []string{"cut"}},
		{name: "first frame forwarded cut", input: cat(forwarded, hb), cut: ErrTagNotPositive, actions: []string{"cut"}},
		{name: "strict cuts garbled", opts: Options{Strict: true}, input: cat(logon, garbled, hb), want: logon, cut: ErrBadChecksum, actions: []string{"cut"}},
		{
			name:    "too many bad frames",
			opts:    Options{MaxBadFrames: 2},
			input:   cat(logon, garbled, forwarded, hb, garbled, hb),
			want:    cat(logon, forwarded, hb),
			cut:     ErrBadChecksum,
			actions: []string{"drop", "forward", "cut"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server, ln, logs := pair(t, tt.opts)
			go func() {
				_, _ = client.Write(tt.input)
				if tt.cut == nil {
					_ = client.(*net.TCPConn).CloseWrite()
				}
			}()
			got, err := readAll(t, server)
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("read %q, want %q", readable(got), readable(tt.want))
			}
			if tt.cut == nil {
				if err != io.EOF {
					t.Fatalf("read ended with %v, want io.EOF", err)
				}
			} else {
				var fe *FrameError
				if !errors.As(err, &fe) || !errors.Is(err, tt.cut) || fe.Action != Cut {
					t.Fatalf("read ended with %v, want a cut for %v", err, tt.cut)
				}
				// The client sees the connection closed.
				_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := client.Read(make([]byte, 1)); err == nil {
					t.Fatal("client connection still open after the cut")
				}
				if _, err := server.Read(make([]byte, 1)); !errors.Is(err, tt.cut) {
					t.Fatalf("read after the cut: %v, want the same cut", err)
				}
			}
			var actions []string
			for _, e := range logs.AllUntimed() {
				if e.Level != zapcore.WarnLevel {
					t.Errorf("logged at %v: %s", e.Level, e.Message)
				}
				actions = append(actions, e.ContextMap()["action"].(string))
				if e.ContextMap()["remote"] != client.LocalAddr().String() {
					t.Errorf("log line without the remote address: %v", e.ContextMap())
				}
			}
			if strings.Join(actions, ",") != strings.Join(tt.actions, ",") {
				t.Fatalf("logged actions %v, want %v", actions, tt.actions)
			}
			st := ln.Stats()
			if int(st.Dropped+st.Forwarded) != count(tt.actions, "drop")+count(tt.actions, "forward") ||
				int(st.Cut) != count(tt.actions, "cut") {
				t.Fatalf("stats %+v for actions %v", st, tt.actions)
			}
		})
	}
}

func count(xs []string, x string) (n int) {
	for _, s := range xs {
		if s == x {
			n++
		}
	}
	return n
}

func TestConnWritePassesThrough(t *testing.T) {
	client, server, _, _ := pair(t, Options{})
	msg := frameOf(hdr)
	if _, err := server.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("client read %q, %v", readable(got), err)
	}
}

// TestCrasherSeedsAreCut keeps every committed crasher seed a cut.
func TestCrasherSeedsAreCut(t *testing.T) {
	paths, err := filepath.Glob("testdata/fuzz/FuzzGuard/crasher-*")
	if err != nil || len(paths) < 3 {
		t.Fatalf("crasher seeds: %v %v", paths, err)
	}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(raw), "\n")
		quoted := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
		frame, err := strconv.Unquote(quoted)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var fe *FrameError
		if err := Validate([]byte(frame), Options{}); !errors.As(err, &fe) || fe.Action != Cut {
			t.Errorf("%s: %v, want a cut", filepath.Base(p), err)
		}
	}
}

func TestConnLogonTimeout(t *testing.T) {
	opts := Options{LogonTimeout: 100 * time.Millisecond}
	t.Run("silent client cut", func(t *testing.T) {
		client, server, ln, _ := pair(t, opts)
		_, _ = client.Write([]byte("8=FIX.4.4\x01")) // a frame that never ends
		start := time.Now()
		_, err := readAll(t, server)
		if !errors.Is(err, ErrLogonTimeout) {
			t.Fatalf("read: %v, want ErrLogonTimeout", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("cut after %v", d)
		}
		if ln.Stats().Cut != 1 {
			t.Fatalf("stats %+v", ln.Stats())
		}
	})
	t.Run("no deadline after the first frame", func(t *testing.T) {
		client, server, _, _ := pair(t, opts)
		go func() {
			_, _ = client.Write(frameOf(hdr))
			time.Sleep(300 * time.Millisecond)
			_, _ = client.Write(frameOf(hdr))
			_ = client.(*net.TCPConn).CloseWrite()
		}()
		got, err := readAll(t, server)
		if err != io.EOF || !bytes.Equal(got, append(frameOf(hdr), frameOf(hdr)...)) {
			t.Fatalf("read %q, %v", readable(got), err)
		}
	})
}
