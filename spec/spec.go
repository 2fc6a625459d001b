// Package spec holds the venue's FIX data dictionary: FIX 4.4 as quickfixgo
// ships it (spec/FIX44.xml of quickfixgo v0.9.10) plus the venue's own
// fields, embedded so the binary carries the dictionary it validates with.
//
// Venue fields:
//   - 7928 SelfTradePrevention (CHAR) on NewOrderSingle and
//     OrderCancelReplaceRequest: O cancel resting, N cancel aggressor,
//     B cancel both, D decrement and cancel; absent = the account's default.
//   - 8013 CancelOnDisconnect (BOOLEAN) on Logon: Y (the default) cancels
//     every resting order of the session when it disconnects or logs out.
//
// FIX 4.4 fields placed where FIX 4.4 does not have them: TrdMatchID (880)
// in ExecutionReport; MinPriceIncrement (969, a FIX 5.0 field) in
// SecurityList's NoRelatedSym; LastLiquidityInd (851) in
// TradeCaptureReport's NoSides; RptSeq (83) in MarketDataSnapshotFullRefresh
// and, with Side (54, a trade's aggressor), in MarketDataIncrementalRefresh's
// NoMDEntries.
package spec

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
)

// FIX44 is the venue's FIX 4.4 data dictionary.
//
//go:embed FIX44.xml
var FIX44 []byte

// WriteFIX44 writes the dictionary to dir/FIX44.xml (quickfixgo reads its
// dictionary from a path) and returns the path.
func WriteFIX44(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("spec: %w", err)
	}
	path := filepath.Join(dir, "FIX44.xml")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, FIX44, 0o644); err != nil {
		return "", fmt.Errorf("spec: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("spec: %w", err)
	}
	return path, nil
}
