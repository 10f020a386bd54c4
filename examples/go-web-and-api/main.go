//go:build !automation

// A Defang project on ECS Fargate in your own AWS account: a public web server and a private
// API next to it. `pulumi up` builds and runs this program (see program.go).
package main

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

func main() {
	pulumi.Run(webAndAPI)
}
