//go:build automation

// The same program run through the Automation API instead of `pulumi up`: this binary serves
// webAndAPI as an inline program to the `pulumi` CLI on PATH, which needs no Go language host.
// The end-to-end test builds it with `-tags automation`:
//
//	go-web-and-api <preview|up|destroy> <project> <stack> <events.jsonl>
//
// It runs in the program's folder (Pulumi.yaml and the stack's config), and writes every engine
// event to <events.jsonl> as one JSON line, as `pulumi --event-log` writes them. Nothing secret
// is printed: the events carry secrets blinded, and outputs are not printed.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
)

func run(op, project, stackName, eventsFile string) error {
	ctx := context.Background()
	out, err := os.Create(eventsFile)
	if err != nil {
		return err
	}
	defer out.Close()
	// The Automation API closes the channel when the operation ends; done says every event is
	// written.
	stream := make(chan events.EngineEvent)
	done := make(chan error, 1)
	go func() {
		encoder := json.NewEncoder(out)
		var failed error
		for event := range stream {
			if err := encoder.Encode(event.EngineEvent); err != nil && failed == nil {
				failed = err
			}
		}
		done <- failed
	}()

	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{SkipVersionCheck: true})
	if err != nil {
		return err
	}
	stack, err := auto.SelectStackInlineSource(ctx, stackName, project, webAndAPI,
		auto.WorkDir(cwd), auto.Pulumi(cmd))
	if err != nil {
		return err
	}
	switch op {
	case "preview":
		_, err = stack.Preview(ctx, optpreview.EventStreams(stream))
	case "up":
		_, err = stack.Up(ctx, optup.EventStreams(stream))
	case "destroy":
		_, err = stack.Destroy(ctx, optdestroy.EventStreams(stream))
	}
	if written := <-done; err == nil {
		err = written
	}
	return err
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
