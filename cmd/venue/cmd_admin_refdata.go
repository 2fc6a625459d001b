package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"

	"venue/backoffice"
)

// newAdminRefdataCmds are `venue admin firm|account|session|symbol|fee-tier ...`:
// the reference data in the back office's PostgreSQL (database.url),
// written directly, one transaction per action with its audit_log row.
// The running venue follows these tables (server/refdata.go), so a change
// reaches it within a second, without a restart.
func newAdminRefdataCmds(g *globals) []*cobra.Command {
	// with opens the database, runs fn with the operator, closes.
	with := func(c *cobra.Command, what string, fn func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error) error {
		cfg, err := g.loadConfig()
		if err != nil {
			return err
		}
		who := backoffice.Actor{Source: "cli"}
		if f := c.Flag("operator"); f != nil {
			who.Name = f.Value.String()
		}
		ctx, cancel := context.WithTimeout(c.Context(), 30*time.Second)
		defer cancel()
		st, err := backoffice.Open(ctx, cfg.Database.URL)
		if err != nil {
			return fmt.Errorf("admin: %s: %w", what, err)
		}
		defer st.Close()
		if err := fn(ctx, st, who); err != nil {
			return fmt.Errorf("admin: %s: %w", what, err)
		}
		return nil
	}
	table := func(c *cobra.Command, head string, rows func(w io.Writer)) {
		w := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, head)
		rows(w)
		_ = w.Flush()
	}
	printf := func(c *cobra.Command, format string, args ...any) {
		fmt.Fprintf(c.OutOrStdout(), format+"\n", args...)
	}
	return []*cobra.Command{
		adminFirmCmd(with, table, printf),
		adminAccountCmd(with, table, printf),
		adminSessionCmd(g, with, table, printf),
		adminSymbolCmd(with, table, printf),
		adminUserCmd(with, table, printf),
		adminFeeTierCmd(with, table, printf),
	}
}

type (
	withStore func(c *cobra.Command, what string, fn func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error) error
	tableFn   func(c *cobra.Command, head string, rows func(w io.Writer))
	printFn   func(c *cobra.Command, format string, args ...any)
)

func adminFirmCmd(with withStore, table tableFn, printf printFn) *cobra.Command {
	cmd := &cobra.Command{Use: "firm", Short: "Member firms (back-office database)"}
	var name string
	add := &cobra.Command{
		Use: "add --name FIRM", Short: "Add a firm", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return with(c, "firm add", func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
				id, err := st.AddFirm(ctx, who, name)
				if err == nil {
					printf(c, "firm.add %s: ok (id %d)", name, id)
				}
				return err
			})
		},
	}
	add.Flags().StringVar(&name, "name", "", "the firm's name (unique)")
	list := &cobra.Command{
		Use: "list", Short: "List the firms", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return with(c, "firm list", func(ctx context.Context, st *backoffice.Store, _ backoffice.Actor) error {
				rows, err := st.ListFirms(ctx)
				if err != nil {
					return err
				}
				table(c, "ID\tNAME\tSTATUS\tACCOUNTS\tSESSIONS", func(w io.Writer) {
					for _, r := range rows {
						fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%d\n", r.ID, r.Name, r.Status, r.Accounts, r.Sessions)
					}
				})
				return nil
			})
		},
	}
	status := func(use, short, status string) *cobra.Command {
		return &cobra.Command{
			Use: use + " FIRM", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				return with(c, "firm "+use, func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
					out, err := st.SetFirmStatus(ctx, who, args[0], status)
					if err == nil {
						printf(c, "firm.%s %s: %s", use, args[0], out)
					}
					return err
				})
			},
		}
	}
	cmd.AddCommand(add,
		status("suspend", "Suspend a firm: its accounts may only cancel, its sessions are disconnected and refused at Logon", backoffice.StatusSuspended),
		status("resume", "Resume a suspended firm (its accounts and sessions keep their own statuses)", backoffice.StatusActive),
		list)
	return cmd
}

func adminAccountCmd(with withStore, table tableFn, printf printFn) *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "Trading accounts (back-office database)"}
	var in backoffice.AccountInput
	add := &cobra.Command{
		Use: "add --firm FIRM --name ACCOUNT", Short: "Add an account to a firm", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			in.STP = strings.ToUpper(in.STP)
			return with(c, "account add", func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
				id, err := st.AddAccount(ctx, who, in)
				if err == nil {
					printf(c, "account.add %s: ok (id %d)", in.Name, id)
				}
				return err
			})
		},
	}
	f := add.Flags()
	f.StringVar(&in.Firm, "firm", "", "the account's firm")
	f.StringVar(&in.Name, "name", "", "the account's name (unique; FIX Account 1)")
	f.IntVar(&in.KYCTier, "kyc-tier", 0, fmt.Sprintf("KYC tier 0..%d", backoffice.MaxKYCTier))
	f.IntVar(&in.FeeTier, "fee-tier", 0, "fee tier 0..15")
	f.StringVar(&in.STP, "stp", "N", "default self-trade prevention: O cancel resting, N cancel aggressor, B both, D decrement")
	f.IntVar(&in.MaxOpenOrders, "max-open-orders", 10_000, fmt.Sprintf("open orders at most, 0..%d", backoffice.MaxOpenOrdersMax))
	status := func(use, short, status string) *cobra.Command {
		return &cobra.Command{
			Use: use + " ACCOUNT", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				return with(c, "account "+use, func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
					out, err := st.SetAccountStatus(ctx, who, args[0], status)
					if err == nil {
						printf(c, "account.%s %s: %s", use, args[0], out)
					}
					return err
				})
			},
		}
	}
	list := &cobra.Command{
		Use: "list", Short: "List the accounts", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return with(c, "account list", func(ctx context.Context, st *backoffice.Store, _ backoffice.Actor) error {
				rows, err := st.ListAccounts(ctx)
				if err != nil {
					return err
				}
				table(c, "ID\tFIRM\tNAME\tSTATUS\tKYC\tFEE TIER\tSTP\tMAX OPEN", func(w io.Writer) {
					for _, r := range rows {
						status := r.Status
						if r.Reserved {
							status += " (reserved)"
						}
						fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%d\t%s\t%d\n", r.ID, r.Firm, r.Name, status, r.KYCTier, r.FeeTier, r.STP, r.MaxOpenOrders)
					}
				})
				return nil
			})
		},
	}
	var (
		setKYC, setFee, setMax int
		setSTP                 string
	)
	set := &cobra.Command{
		Use:   "set ACCOUNT [--kyc-tier N] [--fee-tier N] [--stp O|N|B|D] [--max-open-orders N]",
		Short: "Change an account (the running venue applies it within a second)", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var ch backoffice.AccountChanges
			fl := c.Flags()
			if fl.Changed("kyc-tier") {
				ch.KYCTier = &setKYC
			}
			if fl.Changed("fee-tier") {
				ch.FeeTier = &setFee
			}
			if fl.Changed("stp") {
				ch.STP = &setSTP
			}
			if fl.Changed("max-open-orders") {
				ch.MaxOpenOrders = &setMax
			}
			return with(c, "account set", func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
				out, err := st.SetAccount(ctx, who, args[0], ch)
				if err == nil {
					printf(c, "account.set %s: %s", args[0], out)
				}
				return err
			})
		},
	}
	set.Flags().IntVar(&setKYC, "kyc-tier", 0, fmt.Sprintf("KYC tier 0..%d", backoffice.MaxKYCTier))
	set.Flags().IntVar(&setFee, "fee-tier", 0, "fee tier 0..15 (one with a fee schedule)")
	set.Flags().StringVar(&setSTP, "stp", "", "default self-trade prevention: O, N, B or D")
	set.Flags().IntVar(&setMax, "max-open-orders", 0, fmt.Sprintf("open orders at most, 0..%d", backoffice.MaxOpenOrdersMax))
	cmd.AddCommand(add, set,
		status("suspend", "Suspend an account: its new orders and replaces are rejected, cancels accepted", backoffice.StatusSuspended),
		status("resume", "Resume a suspended account", backoffice.StatusActive),
		list)
	return cmd
}

// readPassword reads one line from r: the password, never on the command
// line.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("--password-stdin: %w", err)
	}
	p := strings.TrimRight(line, "\r\n")
	if err := backoffice.CheckPassword(p); err != nil {
		return "", err
	}
	return p, nil
}

// hashFromStdin reads a password from standard input (only with
// --password-stdin: never on the command line) and returns its bcrypt hash.
func hashFromStdin(c *cobra.Command, stdin bool) ([]byte, error) {
	if !stdin {
		return nil, &backoffice.FieldError{Field: "--password-stdin", Msg: "required: the password is read from standard input, never from the command line"}
	}
	p, err := readPassword(c.InOrStdin())
	if err != nil {
		return nil, err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

func adminSessionCmd(g *globals, with withStore, table tableFn, printf printFn) *cobra.Command {
	cmd := &cobra.Command{Use: "session", Short: "FIX sessions (back-office database)"}
	var (
		in      backoffice.SessionInput
		pwStdin bool
	)
	add := &cobra.Command{
		Use:   "add --comp-id ID --kind KIND --firm FIRM [--account ACCOUNT] --password-stdin",
		Short: "Add a FIX session (it can log on within a second; a drop-copy one first receives its firm's history)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return with(c, "session add", func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
				cfg, err := g.loadConfig()
				if err != nil {
					return err
				}
				in.VenueCompID = cfg.FIX.CompID
				if !c.Flags().Changed("cancel-on-disconnect") {
					in.CancelOnDisconnect = in.Kind == "order-entry"
				}
				// The password is read only once the other fields are right;
				// a bad field is refused (and audited) without it.
				if err := in.ValidateFields(); err != nil {
					_, err = st.AddSession(ctx, who, in)
					return err
				}
				if in.PasswordHash, err = hashFromStdin(c, pwStdin); err != nil {
					return err
				}
				id, err := st.AddSession(ctx, who, in)
				if err == nil {
					printf(c, "session.add %s: ok (id %d)", in.CompID, id)
				}
				return err
			})
		},
	}
	f := add.Flags()
	f.StringVar(&in.CompID, "comp-id", "", "the counterparty's CompID (unique; Logon Username 553)")
	f.StringVar(&in.Kind, "kind", "", "order-entry, drop-copy or market-data")
	f.StringVar(&in.Firm, "firm", "", "the session's firm")
	f.StringVar(&in.Account, "account", "", "order entry: the default account (one of the firm's), used when an order has no Account (1)")
	f.BoolVar(&in.CancelOnDisconnect, "cancel-on-disconnect", false, "order entry: cancel the session's orders when it disconnects (default true for order entry; Logon 8013 overrides)")
	f.IntVar(&in.Throttle, "throttle", 0, "messages per second (0: fix.throttle_per_second)")
	f.BoolVar(&in.TradeCaptureReports, "trade-capture-reports", false, "drop copy: trades as TradeCaptureReports (35=AE) instead of fill ExecutionReports")
	f.BoolVar(&pwStdin, "password-stdin", false, "read the session's password from the first line of standard input")

	status := func(use, short, status string) *cobra.Command {
		return &cobra.Command{
			Use: use + " COMPID", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				return with(c, "session "+use, func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
					out, err := st.SetSessionStatus(ctx, who, args[0], status)
					if err == nil {
						printf(c, "session.%s %s: %s", use, args[0], out)
					}
					return err
				})
			},
		}
	}
	var setPwStdin bool
	setPw := &cobra.Command{
		Use: "set-password COMPID --password-stdin", Short: "Set a session's password (read from standard input)", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return with(c, "session set-password", func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
				h, err := hashFromStdin(c, setPwStdin)
				if err != nil {
					return err
				}
				out, err := st.SetSessionPassword(ctx, who, args[0], h)
				if err == nil {
					printf(c, "session.set-password %s: %s", args[0], out)
				}
				return err
			})
		},
	}
	setPw.Flags().BoolVar(&setPwStdin, "password-stdin", false, "read the new password from the first line of standard input")
	grant := func(use, short string, on bool) *cobra.Command {
		var account string
		c := &cobra.Command{
			Use: use + " COMPID --account ACCOUNT", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				return with(c, "session "+use, func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
					out, err := st.SetSessionAccount(ctx, who, args[0], account, on)
					if err == nil {
						printf(c, "session.%s %s %s: %s", use, args[0], account, out)
					}
					return err
				})
			},
		}
		c.Flags().StringVar(&account, "account", "", "an account of the session's firm")
		return c
	}
	list := &cobra.Command{
		Use: "list", Short: "List the FIX sessions", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return with(c, "session list", func(ctx context.Context, st *backoffice.Store, _ backoffice.Actor) error {
				rows, err := st.ListSessions(ctx)
				if err != nil {
					return err
				}
				table(c, "ID\tCOMPID\tKIND\tFIRM\tACCOUNT\tGRANTED\tSTATUS\tCOD\tTHROTTLE\tTCR", func(w io.Writer) {
					for _, r := range rows {
						throttle := "default"
						if r.Throttle > 0 {
							throttle = fmt.Sprint(r.Throttle)
						}
						acct := r.Account
						if acct == "" {
							acct = "-"
						}
						granted := strings.Join(r.Granted, ",")
						if granted == "" {
							granted = "-"
						}
						fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.CompID, r.Kind, r.Firm, acct, granted, r.Status,
							yn(r.CancelOnDisconnect), throttle, yn(r.TradeCaptureReports))
					}
				})
				return nil
			})
		},
	}
	cmd.AddCommand(add,
		status("suspend", "Suspend a session: refused at Logon (an order-entry session logged on is disconnected)", backoffice.StatusSuspended),
		status("resume", "Resume a suspended session", backoffice.StatusActive),
		grant("grant", "Let an order-entry session place orders for another account of its firm", true),
		grant("revoke", "Take an account back from an order-entry session (its default account stays)", false),
		setPw, list)
	return cmd
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

func adminSymbolCmd(with withStore, table tableFn, printf printFn) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "symbol",
		Short: "Symbols: list them, or list a new one (back-office database)",
		Long: "The configuration's symbols (symbols:) are bootstrapped into the back office at\n" +
			"start; `symbol add` lists more while the venue runs. Amounts are in currency and\n" +
			"never rounded. A symbol, once listed, is never changed or removed (its journaled\n" +
			"amounts are read in its units): halt it with `venue admin halt` instead.",
	}
	var in backoffice.SymbolInput
	add := &cobra.Command{
		Use:   "add --name BASE-QUOTE --tick T --qty-step S --min-qty Q --max-qty Q --max-notional N --ref-px P [--band-bps B] [--halted]",
		Short: "List a new symbol (the running venue adds it within a second; FIX clients see it in SecurityList)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return with(c, "symbol add", func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
				id, err := st.AddSymbol(ctx, who, in)
				if err == nil {
					printf(c, "symbol.add %s: ok (id %d)", in.Name, id)
				}
				return err
			})
		},
	}
	f := add.Flags()
	f.StringVar(&in.Name, "name", "", "BASE-QUOTE, e.g. ETH-USD; a new base or quote becomes a new asset")
	f.StringVar(&in.Tick, "tick", "", "price increment in the quote currency, e.g. 0.01")
	f.StringVar(&in.QtyStep, "qty-step", "", "quantity increment in the base currency, e.g. 0.0001 (a known base asset keeps its unit)")
	f.StringVar(&in.MinQty, "min-qty", "", "smallest order quantity (a multiple of --qty-step)")
	f.StringVar(&in.MaxQty, "max-qty", "", "largest order quantity (a multiple of --qty-step)")
	f.StringVar(&in.MaxNotional, "max-notional", "", "largest order notional in the quote currency")
	f.StringVar(&in.RefPx, "ref-px", "", "reference price until the first trade (a multiple of --tick)")
	f.IntVar(&in.BandBps, "band-bps", 2000, "price band around the reference price, in basis points (1..9999)")
	f.BoolVar(&in.Halted, "halted", false, "list it halted: orders are refused until an operator resumes it (venue admin resume SYMBOL)")
	list := &cobra.Command{
		Use: "list", Short: "List the symbols", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return with(c, "symbol list", func(ctx context.Context, st *backoffice.Store, _ backoffice.Actor) error {
				rows, err := st.ListSymbols(ctx)
				if err != nil {
					return err
				}
				table(c, "ID\tNAME\tBASE\tQUOTE\tTICK\tQTY STEP\tMIN QTY\tMAX QTY\tMAX NOTIONAL\tREF PX\tBAND BPS\tSTATUS", func(w io.Writer) {
					for _, r := range rows {
						fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.ID, r.Name, r.Base, r.Quote, r.Tick,
							r.QtyStep, r.MinQty, r.MaxQty, r.MaxNotional, r.RefPx, r.BandBps, r.Status)
					}
				})
				return nil
			})
		},
	}
	cmd.AddCommand(add, list)
	return cmd
}

func adminFeeTierCmd(with withStore, table tableFn, printf printFn) *cobra.Command {
	cmd := &cobra.Command{Use: "fee-tier", Short: "Fee schedules: the rates of each fee tier (back-office database)"}
	var tier int
	var maker, taker string
	set := &cobra.Command{
		Use: "set --tier N --maker-bps BPS --taker-bps BPS", Short: "Create or change a fee tier's rates", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return with(c, "fee-tier set", func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
				out, err := st.SetFeeTier(ctx, who, tier, maker, taker)
				if err == nil {
					printf(c, "fee-tier.set %d: %s", tier, out)
				}
				return err
			})
		},
	}
	set.Flags().IntVar(&tier, "tier", 0, "the tier, 0..15")
	set.Flags().StringVar(&maker, "maker-bps", "", "maker fee in basis points of notional (0.01 bp steps), e.g. 1 or 0.5")
	set.Flags().StringVar(&taker, "taker-bps", "", "taker fee in basis points of notional (0.01 bp steps), e.g. 2")
	list := &cobra.Command{
		Use: "list", Short: "List the fee tiers", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return with(c, "fee-tier list", func(ctx context.Context, st *backoffice.Store, _ backoffice.Actor) error {
				rows, err := st.ListFeeTiers(ctx)
				if err != nil {
					return err
				}
				bps := func(ppm int64) string { return decimal.New(ppm, -2).String() }
				table(c, "TIER\tMAKER BPS\tTAKER BPS", func(w io.Writer) {
					for _, r := range rows {
						fmt.Fprintf(w, "%d\t%s\t%s\n", r.Tier, bps(r.MakerPpm), bps(r.TakerPpm))
					}
				})
				return nil
			})
		},
	}
	cmd.AddCommand(set, list)
	return cmd
}

// adminUserCmd is `venue admin user ...`: the venue's users, who log in to
// the ops endpoint (HTTP Basic) as themselves.
func adminUserCmd(with withStore, table tableFn, printf printFn) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Venue users: operators of the ops endpoint (back-office database)"}
	var in backoffice.UserInput
	var addStdin bool
	add := &cobra.Command{
		Use: "add --username NAME --role admin|operator|viewer|trader [--firm FIRM] --password-stdin", Short: "Add a user", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return with(c, "user add", func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
				h, err := hashFromStdin(c, addStdin)
				if err != nil {
					return err
				}
				in.PasswordHash = h
				id, err := st.AddUser(ctx, who, in)
				if err == nil {
					printf(c, "user.add %s: ok (id %d)", in.Username, id)
				}
				return err
			})
		},
	}
	add.Flags().StringVar(&in.Username, "username", "", "the user's name (unique)")
	add.Flags().StringVar(&in.Role, "role", "", "admin or operator (may act on the ops endpoint), viewer, trader")
	add.Flags().StringVar(&in.Firm, "firm", "", "the user's firm (optional: empty for venue staff)")
	add.Flags().BoolVar(&addStdin, "password-stdin", false, "read the password from the first line of standard input")
	status := func(use, short, status string) *cobra.Command {
		return &cobra.Command{
			Use: use + " USERNAME", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				return with(c, "user "+use, func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
					out, err := st.SetUserStatus(ctx, who, args[0], status)
					if err == nil {
						printf(c, "user.%s %s: %s", use, args[0], out)
					}
					return err
				})
			},
		}
	}
	var pwStdin bool
	setPw := &cobra.Command{
		Use: "set-password USERNAME --password-stdin", Short: "Set a user's password (read from standard input)", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return with(c, "user set-password", func(ctx context.Context, st *backoffice.Store, who backoffice.Actor) error {
				h, err := hashFromStdin(c, pwStdin)
				if err != nil {
					return err
				}
				out, err := st.SetUserPassword(ctx, who, args[0], h)
				if err == nil {
					printf(c, "user.set-password %s: %s", args[0], out)
				}
				return err
			})
		},
	}
	setPw.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the new password from the first line of standard input")
	list := &cobra.Command{
		Use: "list", Short: "List the users", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return with(c, "user list", func(ctx context.Context, st *backoffice.Store, _ backoffice.Actor) error {
				rows, err := st.ListUsers(ctx)
				if err != nil {
					return err
				}
				table(c, "ID\tUSERNAME\tROLE\tFIRM\tSTATUS", func(w io.Writer) {
					for _, r := range rows {
						firm := r.Firm
						if firm == "" {
							firm = "-"
						}
						fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", r.ID, r.Username, r.Role, firm, r.Status)
					}
				})
				return nil
			})
		},
	}
	cmd.AddCommand(add, status("suspend", "Suspend a user: it can no longer log in", "suspended"),
		status("resume", "Resume a suspended user", "active"), setPw, list)
	return cmd
}
