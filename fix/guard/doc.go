// Package guard validates every inbound FIX 4.4 frame before quickfixgo
// parses it, so that nothing a counterparty sends can stop the venue.
//
// quickfixgo v0.9.10 parses each message of a logged-on session on
// goroutines that do not recover, so a panic there ends the whole process.
// Inputs that do it (upstream issue #678, and more found reading its source):
//
//   - an empty MsgSeqNum "34=": atoi indexes d[0] of an empty slice
//     (fix_int.go:34, from session.go:679); the same for an empty NewSeqNo
//     (in_session.go:162), BeginSeqNo/EndSeqNo (in_session.go:188/195),
//     HeartBtInt (session.go:550) when no data dictionary validates first;
//   - a BodyLength "9=" so large that offset+length wraps negative: the
//     reader goroutine slices out of range (parser.go:83 via parser.go:154,
//     connection.go:37); a merely large one makes the parser buffer without
//     bound (parser.go:55);
//   - an XmlDataLen "212=" larger than the rest of the frame: message.go:553;
//     an empty one: fix_int.go:34 via message.go:272; one shorter than its
//     XmlData so the next field eats no SOH: index out of range at
//     message.go:238;
//   - an empty second BodyLength: fix_int.go:34 via message.go:297
//     (lines are upstream v0.9.10's; in the venue's patched copy in
//     third_party/quickfix message.go's are 25 lines further down and
//     session.go's 18 further up, which is where
//     TestCrashersKillUnguardedQuickfixgo finds them);
//   - a negative BeginSeqNo in a ResendRequest makes the resend loop
//     (memory_store.go:101) run for ~2^63 steps on the session goroutine.
//
// What quickfixgo already handles, and the guard keeps: a frame it cannot
// parse is ignored without advancing the expected MsgSeqNum, a sequence gap
// gets a ResendRequest, a wrong field gets a Reject, a wrong BeginString a
// Logout. What it does not do is check CheckSum at all; the guard drops such
// frames, as FIX requires. quickfixgo's own FIX session test scripts run
// through the guard in TestSessionScripts to hold it to that.
//
// The guard's Scanner frames the stream exactly as quickfixgo's parser does
// and checks each frame (see Scanner, Conn and the Err* rules); a Listener
// hands out connections whose Read returns only frames that may go on, and
// cuts the one connection that sent something dangerous, with a warn line
// saying why. Since quickfixgo cannot be given a listener, a Proxy in front
// of its acceptor applies the guard (see Proxy for the wiring).
package guard
