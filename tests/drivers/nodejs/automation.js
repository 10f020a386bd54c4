// The Automation API driver of the TypeScript example (tests/src/languages/nodejs.rs): runs one
// operation on a stack with the example's own program as an inline program, through the
// `pulumi` on PATH, which then serves the program through @pulumi/pulumi's Node.js runtime.
//
//   node automation.js <preview|up|destroy> <project> <stack> <events.jsonl>
//
// The harness copies this file next to the compiled example (bin/index.js), so `./index` is
// the example and @pulumi/pulumi resolves to the one copy the example and the SDK share. Every
// engine event is written to <events.jsonl> as one JSON line, as `pulumi --event-log` writes it.
// Nothing secret is printed: the events carry secrets blinded, and outputs are not printed.
"use strict";
const fs = require("fs");
const { LocalWorkspace, PulumiCommand } = require("@pulumi/pulumi/automation");

async function main() {
    const [op, projectName, stackName, eventsFile] = process.argv.slice(2);
    if (!["preview", "up", "destroy"].includes(op) || !eventsFile) {
        throw new Error("usage: automation.js <preview|up|destroy> <project> <stack> <events.jsonl>");
    }
    const events = fs.openSync(eventsFile, "w");
    const onEvent = (event) => fs.writeSync(events, JSON.stringify(event) + "\n");
    // The example's module: importing it registers the resources; its exports are the outputs.
    const program = async () => require("./index");
    const pulumiCommand = await PulumiCommand.get({ skipVersionCheck: true });
    const stack = await LocalWorkspace.selectStack(
        { projectName, stackName, program },
        { workDir: process.cwd(), pulumiCommand },
    );
    try {
        if (op === "preview") {
            await stack.preview({ onEvent });
        } else if (op === "up") {
            await stack.up({ onEvent });
        } else {
            await stack.destroy({ onEvent });
        }
    } finally {
        fs.closeSync(events);
    }
}

main().catch((err) => {
    // CommandError carries the CLI's stderr, which the engine keeps free of secret values.
    console.error(`automation.js: ${err && err.message ? err.message : err}`);
    process.exit(1);
});
