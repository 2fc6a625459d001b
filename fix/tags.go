package fix

import "github.com/quickfixgo/quickfix"

// FIX tags the venue reads and writes.
const (
	tagAccount            quickfix.Tag = 1
	tagAvgPx              quickfix.Tag = 6
	tagClOrdID            quickfix.Tag = 11
	tagCommission         quickfix.Tag = 12
	tagCommType           quickfix.Tag = 13
	tagCumQty             quickfix.Tag = 14
	tagCurrency           quickfix.Tag = 15
	tagExecID             quickfix.Tag = 17
	tagExecInst           quickfix.Tag = 18
	tagLastPx             quickfix.Tag = 31
	tagLastQty            quickfix.Tag = 32
	tagMsgType            quickfix.Tag = 35
	tagOrderID            quickfix.Tag = 37
	tagOrderQty           quickfix.Tag = 38
	tagOrdStatus          quickfix.Tag = 39
	tagOrdType            quickfix.Tag = 40
	tagOrigClOrdID        quickfix.Tag = 41
	tagPossDupFlag        quickfix.Tag = 43
	tagPrice              quickfix.Tag = 44
	tagSide               quickfix.Tag = 54
	tagSymbol             quickfix.Tag = 55
	tagText               quickfix.Tag = 58
	tagTimeInForce        quickfix.Tag = 59
	tagTransactTime       quickfix.Tag = 60
	tagPossResend         quickfix.Tag = 97
	tagStopPx             quickfix.Tag = 99
	tagOrdRejReason       quickfix.Tag = 103
	tagCxlRejReason       quickfix.Tag = 102
	tagExpireTime         quickfix.Tag = 126
	tagNoRelatedSym       quickfix.Tag = 146
	tagExecType           quickfix.Tag = 150
	tagLeavesQty          quickfix.Tag = 151
	tagSecurityReqID      quickfix.Tag = 320
	tagSecurityResponseID quickfix.Tag = 322
	tagBusinessRejectRef  quickfix.Tag = 379
	tagBusinessRejectRsn  quickfix.Tag = 380
	tagCxlRejResponseTo   quickfix.Tag = 434
	tagCommCurrency       quickfix.Tag = 479
	tagMassCancelReqType  quickfix.Tag = 530
	tagMassCancelResponse quickfix.Tag = 531
	tagMassCancelRejRsn   quickfix.Tag = 532
	tagTotalAffected      quickfix.Tag = 533
	tagUsername           quickfix.Tag = 553
	tagPassword           quickfix.Tag = 554
	tagSecurityListReqTyp quickfix.Tag = 559
	tagSecurityReqResult  quickfix.Tag = 560
	tagRoundLot           quickfix.Tag = 561
	tagMinTradeVol        quickfix.Tag = 562
	tagMassStatusReqID    quickfix.Tag = 584
	tagMassStatusReqType  quickfix.Tag = 585
	tagOrdStatusReqID     quickfix.Tag = 790
	tagLastLiquidityInd   quickfix.Tag = 851
	tagTrdMatchID         quickfix.Tag = 880
	tagTotNumReports      quickfix.Tag = 911
	tagLastRptRequested   quickfix.Tag = 912
	tagMinPriceIncrement  quickfix.Tag = 969
	tagSelfTradePrevent   quickfix.Tag = 7928
	tagCancelOnDisconnect quickfix.Tag = 8013
)
