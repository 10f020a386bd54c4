"""A Defang project on ECS Fargate in your own AWS account: a public web server and a private
API next to it (the same program as ../yaml-web-and-api). See README.md for how to run it."""

import pulumi
import pulumi_defang as defang

config = pulumi.Config()

# One Defang project: a VPC (or the one you adopt), an ECS cluster `defang-shop`, a log group and
# the task execution role, all in one CloudFormation stack `defang-shop`.
shop = defang.Project(
    "shop",
    name="shop",
    # Ingress ports need it: a public zone shop.<username>.defang.app, a wildcard TLS
    # certificate and an HTTPS application load balancer in front of the services.
    load_balancer=True,
)

# Public: port 80 is exposed at https://web--80.shop.<username>.defang.app
web = defang.Service(
    "web",
    project=shop.name,  # also makes Pulumi create the project first
    image="nginx:1.27-alpine",
    ports=[
        defang.PortArgs(
            target=80,
            mode=defang.PortMode.INGRESS,
            app_protocol=defang.AppProtocol.HTTP,
        ),
    ],
    replicas=1,
    cpus=0.25,
    memory="512Mi",
)

# Private: reachable only from the project's other services, at api.shop.internal:3000
api = defang.Service(
    "api",
    project=shop.name,
    image="hashicorp/http-echo:1.0",
    command=["-listen=:3000", "-text=hello from the api"],
    ports=[defang.PortArgs(target=3000, mode=defang.PortMode.HOST)],
    environment={
        "LOG_LEVEL": "info",
        # A secret: encrypted in the state, shown as [secret].
        "API_TOKEN": config.require_secret("apiToken"),
    },
)

# On AWS, delegate shop.<username>.defang.app to these (an NS record in its parent zone): the
# certificate is validated, and the domains resolve, through that zone.
pulumi.export("nameServers", shop.name_servers)
# One of the values of defang.ServiceStatus: compare with
# defang.ServiceStatus.SERVICE_DEPLOYMENT_COMPLETED.
pulumi.export("webStatus", web.status)
pulumi.export("webDomain", web.domain)
pulumi.export("webEndpoints", web.endpoints)
pulumi.export("apiStatus", api.status)
pulumi.export("apiEndpoints", api.endpoints)
