package main

import (
	"github.com/defang-io/pulumi-defang/sdk/go/defang"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// webAndAPI declares one Defang project with a public web service and a private API. main.go
// hands it to pulumi.Run (plain `pulumi up`); automation.go to the Automation API.
func webAndAPI(ctx *pulumi.Context) error {
	// One Defang project: a VPC (or the one you adopt), an ECS cluster `defang-shop`, a log
	// group and the task execution role, all in one CloudFormation stack `defang-shop`.
	shop, err := defang.NewProject(ctx, "shop", &defang.ProjectArgs{
		Name: pulumi.String("shop"),
		// Ingress ports need it: a public zone shop.<username>.defang.app, a wildcard TLS
		// certificate and an HTTPS application load balancer in front of the services.
		LoadBalancer: pulumi.Bool(true),
	})
	if err != nil {
		return err
	}

	// Public: port 80 is exposed at https://web--80.shop.<username>.defang.app
	web, err := defang.NewService(ctx, "web", &defang.ServiceArgs{
		Project: shop.Name, // also makes Pulumi create the project first
		Image:   pulumi.String("nginx:1.27-alpine"),
		Ports: defang.PortArray{
			defang.PortArgs{
				Target:      pulumi.Int(80),
				Mode:        defang.PortModeIngress,
				AppProtocol: defang.AppProtocolHttp,
			},
		},
		Replicas: pulumi.Int(1),
		Cpus:     pulumi.Float64(0.25),
		Memory:   pulumi.String("512Mi"),
	})
	if err != nil {
		return err
	}

	// Private: reachable only from the project's other services, at api.shop.internal:3000
	api, err := defang.NewService(ctx, "api", &defang.ServiceArgs{
		Project: shop.Name,
		Image:   pulumi.String("hashicorp/http-echo:1.0"),
		Command: pulumi.StringArray{pulumi.String("-listen=:3000"), pulumi.String("-text=hello from the api")},
		Ports: defang.PortArray{
			defang.PortArgs{Target: pulumi.Int(3000), Mode: defang.PortModeHost},
		},
		Environment: pulumi.StringMap{
			"LOG_LEVEL": pulumi.String("info"),
			// A secret: encrypted in the state, shown as [secret].
			"API_TOKEN": config.RequireSecret(ctx, "apiToken"),
		},
	})
	if err != nil {
		return err
	}

	// On AWS, delegate shop.<username>.defang.app to these (an NS record in its parent zone):
	// the certificate is validated, and the domains resolve, through that zone.
	ctx.Export("nameServers", shop.NameServers)
	// A defang.ServiceStatus: compare with defang.ServiceStatusServiceDeploymentCompleted.
	ctx.Export("webStatus", web.Status)
	ctx.Export("webDomain", web.Domain)
	ctx.Export("webEndpoints", web.Endpoints)
	ctx.Export("apiStatus", api.Status)
	ctx.Export("apiEndpoints", api.Endpoints)
	return nil
}
