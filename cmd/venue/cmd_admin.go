package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// newAdminCmd is `venue admin`: the operator actions of the ops endpoint
// from the command line, against a running venue.
func newAdminCmd(g *globals) *cobra.Command {
	var opsAddr, token, operator, user string
	var userPwStdin bool
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Operator actions on a running venue (through its ops HTTP endpoint)",
		Long: "admin sends an operator action to a running venue's ops endpoint (ops.addr,\n" +
			"127.0.0.1:8080): the action goes through the sequencer like any command and is\n" +
			"recorded in the audit trail with --operator. The token is --token, else\n" +
			"VENUE_OPS_ADMIN_TOKEN / ops.admin_token, else the dev token of `venue dev`.",
	}
	cmd.PersistentFlags().StringVar(&opsAddr, "ops", "", "ops endpoint host:port (default ops.addr)")
	cmd.PersistentFlags().StringVar(&token, "token", "", "admin bearer token (default ops.admin_token, or dev-ops-token)")
	cmd.PersistentFlags().StringVar(&operator, "operator", os.Getenv("USER"), "your name, for the audit trail")
	cmd.PersistentFlags().StringVar(&user, "user", "", "log in as this venue user (made with venue admin user add) instead of using the token; with --password-stdin")
	cmd.PersistentFlags().BoolVar(&userPwStdin, "password-stdin", false, "with --user: read the user's password from the first line of standard input")

	post := func(c *cobra.Command, path string, q url.Values) error {
		cfg, err := g.loadConfig()
		if err != nil {
			return err
		}
		addr := opsAddr
		if addr == "" {
			addr = cfg.Ops.Addr
		}
		tok := token
		if tok == "" {
			tok = cfg.Ops.AdminToken
		}
		if tok == "" {
			tok = "dev-ops-token"
		}
		if operator == "" && user == "" {
			return errors.New("admin: say who you are with --operator (it goes into the audit trail), or log in with --user")
		}
		u := "http://" + addr + path
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		req, err := http.NewRequest(http.MethodPost, u, nil)
		if err != nil {
			return err
		}
		if user != "" {
			if !userPwStdin {
				return errors.New("admin: --user needs --password-stdin: the password is read from standard input, never from the command line")
			}
			pw, err := readPassword(c.InOrStdin())
			if err != nil {
				return fmt.Errorf("admin: %w", err)
			}
			req.SetBasicAuth(user, pw)
		} else {
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("X-Operator", operator)
		}
		client := &http.Client{Timeout: 30 * time.Second}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("admin: %w (is the venue running with its ops endpoint on %s?)", err, addr)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var res struct {
			OK      bool   `json:"ok"`
			Action  string `json:"action"`
			Target  string `json:"target"`
			Outcome string `json:"outcome"`
			Seq     uint64 `json:"seq"`
			Count   int64  `json:"count"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			return fmt.Errorf("admin: %s answered %s: %s", addr, resp.Status, body)
		}
		if !res.OK {
			return fmt.Errorf("admin: %s %s refused: %s", res.Action, res.Target, res.Outcome)
		}
		out := c.OutOrStdout()
		fmt.Fprintf(out, "%s %s: %s", res.Action, res.Target, res.Outcome)
		if res.Seq != 0 {
			fmt.Fprintf(out, " (seq %d)", res.Seq)
		}
		if res.Action == "mass-cancel" {
			fmt.Fprintf(out, ", %d orders canceled", res.Count)
		}
		fmt.Fprintln(out)
		return nil
	}

	var cancel bool
	halt := &cobra.Command{
		Use: "halt SYMBOL", Short: "Halt a symbol: new orders and replaces are rejected, cancels accepted",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			q := url.Values{}
			if cancel {
				q.Set("cancel", "true")
			}
			return post(c, "/admin/symbols/"+url.PathEscape(args[0])+"/halt", q)
		},
	}
	halt.Flags().BoolVar(&cancel, "cancel", false, "also cancel every order of the symbol")
	resume := &cobra.Command{
		Use: "resume SYMBOL", Short: "Resume trading in a halted symbol", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return post(c, "/admin/symbols/"+url.PathEscape(args[0])+"/resume", nil)
		},
	}
	kill := &cobra.Command{
		Use: "kill ACCOUNT", Short: "Turn an account's kill switch on: its orders are canceled, new ones refused", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return post(c, "/admin/accounts/"+url.PathEscape(args[0])+"/kill", nil)
		},
	}
	unkill := &cobra.Command{
		Use: "unkill ACCOUNT", Short: "Turn an account's kill switch off", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return post(c, "/admin/accounts/"+url.PathEscape(args[0])+"/unkill", nil)
		},
	}
	var mcAccount, mcSymbol, mcSide string
	var mcAll bool
	mass := &cobra.Command{
		Use: "mass-cancel", Short: "Cancel orders by --account, --symbol and --side, or --all of them", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"account": mcAccount, "symbol": mcSymbol, "side": mcSide} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if mcAll {
				q.Set("all", "true")
			}
			return post(c, "/admin/mass-cancel", q)
		},
	}
	mass.Flags().StringVar(&mcAccount, "account", "", "only this account's orders")
	mass.Flags().StringVar(&mcSymbol, "symbol", "", "only this symbol's orders")
	mass.Flags().StringVar(&mcSide, "side", "", "only buys or sells: buy or sell")
	mass.Flags().BoolVar(&mcAll, "all", false, "every order of the venue (when no other flag narrows it)")
	disconnect := &cobra.Command{
		Use: "disconnect COMPID", Short: "Disconnect a FIX session (order entry: its cancel-on-disconnect applies)", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return post(c, "/admin/sessions/"+url.PathEscape(args[0])+"/disconnect", nil)
		},
	}
	cmd.AddCommand(halt, resume, kill, unkill, mass, disconnect)
	cmd.AddCommand(newAdminRefdataCmds(g)...)
	return cmd
}
