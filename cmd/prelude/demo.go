package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"prelude/internal/demo"
)

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var scale string
	var seed uint64
	var accounts, contacts, activities int
	cfg, _, err := loadConfig("demo", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&scale, "scale", "small", "small (seconds), large (100k accounts, 300k contacts, 1M timeline events; minutes) or custom")
		fs.Uint64Var(&seed, "seed", 1, "random seed: the same seed gives the same data")
		fs.IntVar(&accounts, "accounts", 0, "accounts (custom scale, or override)")
		fs.IntVar(&contacts, "contacts-per-account", 0, "average contacts per account (custom scale, or override)")
		fs.IntVar(&activities, "activities-per-account", 0, "average activities per account (custom scale, or override)")
	})
	if err != nil {
		return err
	}
	var o demo.Options
	if scale == "custom" {
		o = demo.Options{Accounts: 1000, ContactsPerAccount: 3, ActivitiesPerAccount: 6}
	} else if o, err = demo.Scale(scale); err != nil {
		return err
	}
	o.Seed = seed
	if accounts > 0 {
		o.Accounts = accounts
	}
	if contacts > 0 {
		o.ContactsPerAccount = contacts
	}
	if activities > 0 {
		o.ActivitiesPerAccount = activities
	}
	o.Progress = stdout
	srv, _, err := openForCLI(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer srv.Close()
	res, err := demo.Generate(ctx, srv.DB, srv.Search, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "done in %s: %d users, %d accounts, %d contacts, %d activities, %d timeline events\n",
		res.Took.Round(1e8), res.Users, res.Accounts, res.Contacts, res.Activities, res.TimelineEvents)
	fmt.Fprintf(stdout, "sign in as demo.sales01, demo.head00 (department heads) … with password %s\n", demo.Password)
	return nil
}
