package guard

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// quickfixgo ships the FIX session test cases as scripts
// (_test/definitions/server/fix44/*.def): I lines are sent, E lines are
// expected, iCONNECT/eDISCONNECT open and await the end of a connection.
// Running them through the guard shows it keeps the session-level behaviour
// FIX.md relies on: garbled frames ignored, gaps resent, field errors
// rejected.

// sessionCases are the scripts about framing, sequence numbers and field
// errors; the ones that wait out heartbeat intervals are left out for time.
var sessionCases = []string{
	"1a_ValidLogonWithCorrectMsgSeqNum", "1a_ValidLogonMsgSeqNumTooHigh",
	"1d_InvalidLogonLengthInvalid", "1d_InvalidLogonWrongBeginString", "1e_NotLogonMessage",
	"2a_MsgSeqNumCorrect", "2b_MsgSeqNumTooHigh", "2c_MsgSeqNumTooLow",
	"2d_GarbledMessage", "2e_PossDupAlreadyReceived", "2e_PossDupNotReceived",
	"2f_PossDupOrigSendingTimeTooHigh", "2g_PossDupNoOrigSendingTime", "2i_BeginStringValueUnexpected",
	"2k_CompIDDoesNotMatchProfile", "2m_BodyLengthValueNotCorrect",
	"2o_SendingTimeValueOutOfRange", "2q_MsgTypeNotValid", "2r_UnregisteredMsgType",
	"2t_FirstThreeFieldsOutOfOrder", "3b_InvalidChecksum", "3c_GarbledMessage",
	"4b_ReceivedTestRequest", "7_ReceiveRejectMessage",
	"8_AdminAndApplicationMessages", "8_OnlyAdminMessages", "8_OnlyApplicationMessages",
	"10_MsgSeqNumEqual", "10_MsgSeqNumGreater", "10_MsgSeqNumLess",
	"11a_NewSeqNoGreater", "11b_NewSeqNoEqual", "11c_NewSeqNoLess",
	"14a_BadField", "14b_RequiredFieldMissing", "14c_TagNotDefinedForMsgType",
	"14d_TagSpecifiedWithoutValue", "14e_IncorrectEnumValue", "14f_IncorrectDataFormat",
	"14g_HeaderBodyTrailerFieldsOutOfOrder", "14h_RepeatedTag", "14i_RepeatingGroupCountNotEqual",
	"15_HeaderAndBodyFieldsOrderedDifferently", "19a_PossResendMessageThatHAsAlreadyBeenSent",
	"19b_PossResendMessageThatHasNotBeenSent", "20_SimultaneousResendRequest",
	"21_RepeatingGroupSpecifierWithValueOfZero", "ReverseRoute", "ReverseRouteWithEmptyRoutingTags",
	"RejectResentMessage", "SessionReset",
}

// onlyGuarded are the scripts that pass only through the guard: quickfixgo
// v0.9.10 never checks CheckSum, so on its own it processes a frame FIX says
// to ignore; the guard drops it.
var onlyGuarded = map[string]bool{"3b_InvalidChecksum": true}

// TestSessionScripts runs each script against a bare acceptor and against
// the same acceptor behind the guard: the guard may make a script pass, it
// must never make one fail.
func TestSessionScripts(t *testing.T) {
	dir := filepath.Join(filepath.Dir(filepath.Dir(fix44Dictionary(t))), "_test", "definitions", "server", "fix44")
	for _, guarded := range []bool{false, true} {
		name := map[bool]string{false: "unguarded", true: "guarded"}[guarded]
		t.Run(name, func(t *testing.T) {
			v := startVenue(t, venueConfig{sender: "ISLD", sessions: []string{"TW"}, dict: true, unguarded: !guarded})
			for _, c := range sessionCases {
				err := runScript(filepath.Join(dir, c+".def"), v.addr)
				switch {
				case onlyGuarded[c] && !guarded:
					if err == nil {
						t.Errorf("%s passed without the guard: does quickfixgo check CheckSum now?", c)
					}
				case err != nil:
					t.Errorf("%s: %v", c, err)
				}
			}
		})
	}
}

// runScript plays one .def script against addr.
func runScript(path, addr string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var conn net.Conn
	var sc *Scanner
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for n, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		where := fmt.Sprintf("line %d", n+1)
		switch {
		case line == "iCONNECT":
			var err error
			// quickfixgo may still hold the previous connection's session.
			for i := 0; i < 50; i++ {
				if conn, err = net.Dial("tcp", addr); err == nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err != nil {
				return fmt.Errorf("%s: connect: %w", where, err)
			}
			sc = NewScanner(conn, Options{})
		case line == "iDISCONNECT":
			conn.Close()
			conn = nil
		case line == "eDISCONNECT":
			if err := awaitClose(conn, sc); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			conn = nil
			time.Sleep(50 * time.Millisecond) // let quickfixgo see it too
		case line[0] == 'I':
			if _, err := conn.Write(fixify(timify(line[1:]))); err != nil {
				return fmt.Errorf("%s: write: %w", where, err)
			}
		case line[0] == 'E':
			_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			got, err := sc.Next()
			if err != nil {
				return fmt.Errorf("%s: expected %q: %w", where, readable([]byte(line[1:])), err)
			}
			if err := compareFields(string(fixify(timify(line[1:]))), string(got)); err != nil {
				return fmt.Errorf("%s: %w\n  expected %q\n  received %q", where, err, readable([]byte(line[1:])), readable(got))
			}
		default:
			return fmt.Errorf("%s: cannot read %q", where, line)
		}
	}
	return nil
}

func awaitClose(conn net.Conn, sc *Scanner) error {
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer conn.Close()
	_, err := sc.Next()
	var ne net.Error
	switch {
	case err == nil:
		return errors.New("expected a disconnect, got a message")
	case errors.As(err, &ne) && ne.Timeout():
		return errors.New("expected a disconnect, connection still open")
	}
	return nil
}

var timeRe = regexp.MustCompile(`<TIME([+-]\d+)?>`)

// timify replaces <TIME>, <TIME-n> and <TIME+n> with UTC seconds.
func timify(s string) string {
	return timeRe.ReplaceAllStringFunc(s, func(m string) string {
		t := time.Now().UTC()
		if off := timeRe.FindStringSubmatch(m)[1]; off != "" {
			n, _ := strconv.Atoi(off)
			t = t.Add(time.Duration(n) * time.Second)
		}
		return t.Format("20060102-15:04:05")
	})
}

var (
	headRe     = regexp.MustCompile(`^8=.*?\x01`)
	checksumRe = regexp.MustCompile(`\x0110=[^\x01]*\x01$`)
)

// fixify adds BodyLength and CheckSum where the script leaves them out,
// as quickfix's Reflector.rb does; given ones are sent as they are.
func fixify(s string) []byte {
	head := headRe.FindString(s)
	if head == "" {
		return []byte(s)
	}
	rest := s[len(head):]
	hasLength := strings.Contains(s, "\x019=")
	var sum string
	if loc := checksumRe.FindStringIndex(rest); loc != nil {
		sum = rest[loc[0]+1:]
		rest = rest[:loc[0]+1]
	}
	length := ""
	if !hasLength {
		length = fmt.Sprintf("9=%d\x01", len(rest))
	}
	if sum == "" {
		sum = fmt.Sprintf("10=%03d\x01", checksum([]byte(head+length+rest)))
	}
	return []byte(head + length + rest + sum)
}

// fieldPatterns are quickfix's definitions/fields.fmt, matched anywhere in
// the value as Ruby's Regexp#=== does.
var fieldPatterns = map[string]*regexp.Regexp{
	"10":  regexp.MustCompile(`\d{3}`),
	"42":  regexp.MustCompile(`\d{8}-\d{2}:\d{2}:\d{2}`),
	"52":  regexp.MustCompile(`\d{8}-\d{2}:\d{2}:\d{2}|\d{8}-\d{2}:\d{2}:\d{2}[.]\d{3}`),
	"60":  regexp.MustCompile(`\d{8}-\d{2}:\d{2}:\d{2}`),
	"122": regexp.MustCompile(`\d{8}-\d{2}:\d{2}:\d{2}`),
}

// compareFields matches fields in order, by value or by pattern.
func compareFields(want, got string) error {
	w := strings.Split(strings.TrimSuffix(want, "\x01"), "\x01")
	g := strings.Split(strings.TrimSuffix(got, "\x01"), "\x01")
	if len(w) != len(g) {
		return fmt.Errorf("%d fields, want %d", len(g), len(w))
	}
	for i := range w {
		wt, wv, _ := strings.Cut(w[i], "=")
		gt, gv, _ := strings.Cut(g[i], "=")
		if wt != gt {
			return fmt.Errorf("field %d is %s, want %s", i, gt, wt)
		}
		if re, ok := fieldPatterns[wt]; ok {
			if !re.MatchString(gv) {
				return fmt.Errorf("field %s=%q does not match %s", wt, gv, re)
			}
		} else if wv != gv {
			return fmt.Errorf("field %s=%q, want %q", wt, gv, wv)
		}
	}
	return nil
}
