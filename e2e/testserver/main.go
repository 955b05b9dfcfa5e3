// Command testserver runs the HyperStack WebSocket server (internal/serve) fed with synthetic
// SPL-Token-like mutations, so that the end-to-end suite can exercise real WebSockets with the
// official client before, and independently of, the full `hyperstack serve` pipeline.
//
//	go run ./e2e/testserver -addr 127.0.0.1:8877 -health-addr 127.0.0.1:8081
//
// It prints one line "listening ws=ws://… health=http://…" once both listeners are open, serves
// /debug/views and /debug/entities on the health address, and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/charmbracelet/log"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/projection"
	"github.com/hyperstack-go/hyperstack/internal/serve"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "testserver:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8877", "WebSocket listen address")
	healthAddr := flag.String("health-addr", "127.0.0.1:8081", "health/debug listen address")
	slotMs := flag.Int("slot-ms", 100, "milliseconds between slots")
	perSlot := flag.Int("per-slot", 6, "transfers per slot")
	accounts := flag.Int("accounts", 40, "token accounts")
	mints := flag.Int("mints", 4, "mints")
	seed := flag.Uint64("seed", 1, "random seed")
	verbose := flag.Bool("v", false, "debug logging")
	flag.Parse()

	logger := log.NewWithOptions(os.Stderr, log.Options{Prefix: "testserver"})
	if *verbose {
		logger.SetLevel(log.DebugLevel)
	}
	srv, err := serve.New(&serve.Config{
		Debug:  true,
		Logger: logger,
		Store: projection.Config{
			Entities: []string{"Mint", "TokenAccount"},
			Views: []projection.ViewDef{{
				ID: "TokenAccount/richest", Entity: "TokenAccount", Limit: 10,
				Sort: &projection.Sort{Field: []string{"amount"}, Desc: true},
			}},
		},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hln, err := net.Listen("tcp", *healthAddr)
	if err != nil {
		ln.Close()
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("listening ws=ws://%s health=http://%s\n", ln.Addr(), hln.Addr())

	gen := newGenerator(*seed, *mints, *accounts)
	go func() {
		t := time.NewTicker(time.Duration(*slotMs) * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			muts := gen.slot(*perSlot)
			if err := srv.Apply(ctx, muts); err != nil && ctx.Err() == nil {
				logger.Error("apply", "err", err)
			}
			srv.ReportSource(serve.SourceStatus{State: "connected", CaughtUp: true, LastSlot: gen.slotNo, Name: "synthetic"})
		}
	}()
	return srv.Serve(ctx, ln, hln)
}

// generator produces SPL-Token-like transfers: accounts with balances and an appended transfer
// history, mints with supply and counters (one raw amount beyond 2^53, sent as a string).
type generator struct {
	rng      *rand.Rand
	slotNo   uint64
	seq      uint64
	mints    []string
	accounts []account
}

type account struct {
	address, mint, owner string
	amount               uint64
	transfers            int
}

// maxHistory keeps appended histories under the server's array cap, so client and server copies
// stay comparable.
const maxHistory = 60

func newGenerator(seed uint64, nMints, nAccounts int) *generator {
	g := &generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), slotNo: 300_000_000}
	for i := range nMints {
		g.mints = append(g.mints, fmt.Sprintf("Mint%02dxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i))
	}
	for i := range nAccounts {
		g.accounts = append(g.accounts, account{
			address: fmt.Sprintf("Acct%03dyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", i),
			mint:    g.mints[i%nMints],
			owner:   fmt.Sprintf("Owner%03dzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", i/2),
			amount:  uint64(1_000_000 * (i + 1)),
		})
	}
	return g
}

func (g *generator) mutation(entity, key string, patch any, appendPaths ...string) event.Mutation {
	g.seq++
	k, _ := json.Marshal(key)
	p, _ := json.Marshal(patch)
	return event.Mutation{Export: entity, Key: k, Patch: p, Append: appendPaths, Slot: g.slotNo, Seq: g.seq, Handler: "synthetic::transfer"}
}

func (g *generator) slot(n int) []event.Mutation {
	g.slotNo++
	var muts []event.Mutation
	touched := map[string]bool{}
	for range n {
		// Power-law-ish activity: low indexes are picked far more often.
		i := int(float64(len(g.accounts)) * g.rng.Float64() * g.rng.Float64())
		j := g.rng.IntN(len(g.accounts))
		if i == j {
			continue
		}
		from, to := &g.accounts[i], &g.accounts[j]
		amt := uint64(g.rng.IntN(50_000) + 1)
		if amt > from.amount {
			amt = from.amount
		}
		from.amount -= amt
		to.amount += amt
		for _, a := range []*account{from, to} {
			patch := map[string]any{
				"id":     map[string]any{"address": a.address},
				"mint":   a.mint,
				"owner":  a.owner,
				"amount": a.amount,
				"state":  map[string]any{"last_slot": g.slotNo, "frozen": false},
			}
			if a.transfers < maxHistory {
				a.transfers++
				patch["events"] = map[string]any{"transfers": []any{map[string]any{
					"slot": g.slotNo, "amount": amt, "from": from.address, "to": to.address,
				}}}
				muts = append(muts, g.mutation("TokenAccount", a.address, patch, "events.transfers"))
			} else {
				muts = append(muts, g.mutation("TokenAccount", a.address, patch))
			}
		}
		touched[from.mint] = true
	}
	for _, m := range g.mints {
		if !touched[m] {
			continue
		}
		var supply uint64
		for _, a := range g.accounts {
			if a.mint == m {
				supply += a.amount
			}
		}
		muts = append(muts, g.mutation("Mint", m, map[string]any{
			"id":         map[string]any{"mint": m},
			"decimals":   6,
			"supply":     supply,
			"raw_supply": json.Number(fmt.Sprintf("%d", uint64(1)<<60+supply)),
			"last_slot":  g.slotNo,
		}))
	}
	return muts
}
