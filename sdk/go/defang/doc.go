// Deploy container services to ECS Fargate in your own AWS account, with Defang's domains, statuses and defaults.
package defang
