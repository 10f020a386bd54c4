// A Defang project on ECS Fargate in your own AWS account: a public web server and a private
// API next to it. The stack outputs are this module's exports.
import * as pulumi from "@pulumi/pulumi";
import * as defang from "@defang-io/pulumi-defang";

const config = new pulumi.Config();

// One Defang project: a VPC (or the one you adopt), an ECS cluster `defang-shop`, a log group
// and the task execution role, all in one CloudFormation stack `defang-shop`.
const shop = new defang.Project("shop", {
    name: "shop",
    // Ingress ports need it: a public zone shop.<username>.defang.app, a wildcard TLS
    // certificate and an HTTPS application load balancer in front of the services.
    loadBalancer: true,
});

// Public: port 80 is exposed at https://web--80.shop.<username>.defang.app
const web = new defang.Service("web", {
    project: shop.name, // also makes Pulumi create the project first
    image: "nginx:1.27-alpine",
    ports: [{ target: 80, mode: defang.PortMode.Ingress, appProtocol: defang.AppProtocol.Http }],
    replicas: 1,
    cpus: 0.25,
    memory: "512Mi",
});

// Private: reachable only from the project's other services, at api.shop.internal:3000
const api = new defang.Service("api", {
    project: shop.name,
    image: "hashicorp/http-echo:1.0",
    command: ["-listen=:3000", "-text=hello from the api"],
    ports: [{ target: 3000, mode: defang.PortMode.Host }],
    environment: {
        LOG_LEVEL: "info",
        API_TOKEN: config.requireSecret("apiToken"), // a secret: encrypted in the state, shown as [secret]
    },
});

// On AWS, delegate shop.<username>.defang.app to these (an NS record in its parent zone): the
// certificate is validated, and the domains resolve, through that zone.
export const nameServers = shop.nameServers;
// A union of the eleven status values: compare with defang.ServiceStatus.ServiceDeploymentCompleted.
export const webStatus: pulumi.Output<defang.ServiceStatus> = web.status;
export const webDomain = web.domain;
export const webEndpoints = web.endpoints;
export const apiStatus = api.status;
export const apiEndpoints = api.endpoints;
