package fix

import "github.com/quickfixgo/quickfix"

// FIX tags of market data.
const (
	tagRptSeq               quickfix.Tag = 83
	tagMDReqID              quickfix.Tag = 262
	tagSubscriptionReqType  quickfix.Tag = 263
	tagMarketDepth          quickfix.Tag = 264
	tagMDUpdateType         quickfix.Tag = 265
	tagAggregatedBook       quickfix.Tag = 266
	tagNoMDEntryTypes       quickfix.Tag = 267
	tagNoMDEntries          quickfix.Tag = 268
	tagMDEntryType          quickfix.Tag = 269
	tagMDEntryPx            quickfix.Tag = 270
	tagMDEntrySize          quickfix.Tag = 271
	tagMDEntryDate          quickfix.Tag = 272
	tagMDEntryTime          quickfix.Tag = 273
	tagMDUpdateAction       quickfix.Tag = 279
	tagMDReqRejReason       quickfix.Tag = 281
	tagUnsolicitedIndicator quickfix.Tag = 325
	tagSecurityTradingStat  quickfix.Tag = 326
)
