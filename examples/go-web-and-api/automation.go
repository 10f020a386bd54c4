//go:build automation

// The same program run through the Automation API instead of `pulumi up`: this binary serves
// webAndAPI as an inline program to the `pulumi` CLI on PATH, which needs no Go language host.
// The end-to-end test builds it with `-tags automation`:
//
//	go-web-and-api <preview|up|destroy> <project> <stack> <events.jsonl>
//
// It runs in the program's folder (Pulumi.yaml and the stack's config) on a stack that exists
// (`pulumi stack init`), and writes every engine event to <events.jsonl> as one JSON line, as
// `pulumi --event-log` writes them. The CLI's progress goes to stdout and stderr as `pulumi up`
// shows it. Nothing secret is printed: the events and the progress carry secrets blinded, and
// the outputs are not printed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
)

// How long to wait, once the operation has returned, for the last events to be written. The
// Automation API closes the stream when the CLI ends its event log, which it has done by the
// time the operation returns; after a CLI that failed before it opened its event log, it stays
// open.
const drainTimeout = 5 * time.Second

// record writes every event of stream to out as one JSON line, until the stream is closed;
// the error it sends to done (nil when all is well) says that events were lost.
func record(out *os.File, stream <-chan events.EngineEvent, done chan<- error) {
	var failed []error
	encoder := json.NewEncoder(out)
	// The wire form of the event log: `<`, `>` and `&` as they are.
	encoder.SetEscapeHTML(false)
	for event := range stream {
		if event.Error != nil {
			// A line of the stream that was not an event, or the stream broke off.
			failed = append(failed, fmt.Errorf("event stream: %w", event.Error))
		} else if err := encoder.Encode(event.EngineEvent); err != nil {
			failed = append(failed, err)
		}
	}
	failed = append(failed, out.Close())
	done <- errors.Join(failed...)
}

func run(op, project, stackName, eventsFile string) error {
	ctx := context.Background()
	out, err := os.Create(eventsFile)
	if err != nil {
		return err
	}
	stream := make(chan events.EngineEvent)
	done := make(chan error, 1)
	go record(out, stream, done)

	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{SkipVersionCheck: true})
	if err != nil {
		return err
	}
	// Select, not upsert: the stack and its config are the caller's (a stack created here would
	// have no config and a secrets provider of its own).
	stack, err := auto.SelectStackInlineSource(ctx, stackName, project, webAndAPI,
		auto.WorkDir(cwd), auto.Pulumi(cmd))
	if err != nil {
		return err
	}
	switch op {
	case "preview":
		_, err = stack.Preview(ctx, optpreview.EventStreams(stream),
			optpreview.ProgressStreams(os.Stdout), optpreview.ErrorProgressStreams(os.Stderr))
	case "up":
		_, err = stack.Up(ctx, optup.EventStreams(stream),
			optup.ProgressStreams(os.Stdout), optup.ErrorProgressStreams(os.Stderr))
	case "destroy":
		_, err = stack.Destroy(ctx, optdestroy.EventStreams(stream),
			optdestroy.ProgressStreams(os.Stdout), optdestroy.ErrorProgressStreams(os.Stderr))
	}
	select {
	case recorded := <-done:
		return errors.Join(err, recorded)
	case <-time.After(drainTimeout):
		if err == nil {
			err = fmt.Errorf("the event stream did not end within %s of the %s", drainTimeout, op)
		}
		return err
	}
}

func main() {
	if len(os.Args) != 5 || (os.Args[1] != "preview" && os.Args[1] != "up" && os.Args[1] != "destroy") {
		fmt.Fprintln(os.Stderr, "usage: go-web-and-api <preview|up|destroy> <project> <stack> <events.jsonl>")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3], os.Args[4]); err != nil {
		fmt.Fprintf(os.Stderr, "go-web-and-api: %s failed: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
