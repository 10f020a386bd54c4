//! [`Stacks`] over the AWS SDK: CloudFormation stacks for a project's shared infrastructure.

use crate::errors::{CLOUDFORMATION as CFN, classify, is_no_updates};
use async_trait::async_trait;
use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus, Tag};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use defang_resources::cloud::{
    CloudError, CloudResult, IN_PROGRESS_STATUSES, StackEvent, StackRequest, StackState, Stacks,
    UpdateOutcome,
};
use std::collections::BTreeMap;

pub struct StackAdapter {
    client: aws_sdk_cloudformation::Client,
}

impl StackAdapter {
    pub fn new(client: aws_sdk_cloudformation::Client) -> Self {
        Self { client }
    }
}

/// Our templates create IAM roles (task execution, task role), some with fixed names.
fn capabilities() -> Vec<Capability> {
    vec![Capability::CapabilityIam, Capability::CapabilityNamedIam]
}

/// `None` when there are none, so that a template without parameters gets no empty list.
fn to_parameters(parameters: &BTreeMap<String, String>) -> Option<Vec<Parameter>> {
    (!parameters.is_empty()).then(|| {
        parameters
            .iter()
            .map(|(k, v)| {
                Parameter::builder()
                    .parameter_key(k)
                    .parameter_value(v)
                    .build()
            })
            .collect()
    })
}

fn to_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect()
}

pub(crate) fn stack_state(stack: &aws_sdk_cloudformation::types::Stack) -> StackState {
    StackState {
        id: stack.stack_id().unwrap_or_default().to_owned(),
        name: stack.stack_name().unwrap_or_default().to_owned(),
        status: stack
            .stack_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        status_reason: stack.stack_status_reason().map(str::to_owned),
        outputs: stack
            .outputs()
            .iter()
            .filter_map(|o| {
                Some((
                    o.output_key()?.to_owned(),
                    o.output_value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
        tags: stack
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect(),
    }
}

#[async_trait]
impl Stacks for StackAdapter {
    async fn describe_stack(&self, name: &str) -> CloudResult<Option<StackState>> {
        let out = match self.client.describe_stacks().stack_name(name).send().await {
            Ok(out) => out,
            // "ValidationError: Stack with id <name> does not exist".
            Err(err) => {
                return match classify(CFN, "DescribeStacks", "describe CloudFormation stack", &err)
                {
                    err if err.is_not_found() => Ok(None),
                    other => Err(other),
                };
            }
        };
        // By name, AWS only returns live stacks; by stack id it also returns deleted ones.
        Ok(out
            .stacks()
            .iter()
            .find(|s| s.stack_status() != Some(&StackStatus::DeleteComplete))
            .map(stack_state))
    }

    async fn create_stack(&self, request: &StackRequest) -> CloudResult<String> {
        // OnFailure stays at its default, ROLLBACK: a failed create leaves the stack in
        // ROLLBACK_COMPLETE with its events, so the user can read why; the caller deletes it
        // before trying again. DELETE would erase the evidence.
        let out = self
            .client
            .create_stack()
            .stack_name(&request.name)
            .template_body(&request.template)
            .set_capabilities(Some(capabilities()))
            .set_tags(Some(to_tags(&request.tags)))
            .set_parameters(to_parameters(&request.parameters))
            .client_request_token(&request.client_token)
            .send()
            .await
            .map_err(|e| classify(CFN, "CreateStack", "create CloudFormation stack", &e))?;
        let id = out.stack_id().ok_or_else(|| {
            CloudError::other("create CloudFormation stack: no stack id in the response")
                .in_call(CFN, "CreateStack")
        })?;
        tracing::debug!(name = %request.name, %id, "creating stack");
        Ok(id.to_owned())
    }

    async fn update_stack(&self, request: &StackRequest) -> CloudResult<UpdateOutcome> {
        let result = self
            .client
            .update_stack()
            .stack_name(&request.name)
            .template_body(&request.template)
            .set_capabilities(Some(capabilities()))
            // Always sent, even empty: omitting Tags keeps the old ones; an empty list removes them.
            .set_tags(Some(to_tags(&request.tags)))
            .set_parameters(to_parameters(&request.parameters))
            .client_request_token(&request.client_token)
            .send()
            .await;
        match result {
            Ok(_) => {
                tracing::debug!(name = %request.name, "updating stack");
                Ok(UpdateOutcome::Started)
            }
            Err(err) if is_no_updates(err.code(), err.message()) => Ok(UpdateOutcome::NoChanges),
            Err(err) => Err(classify(
                CFN,
                "UpdateStack",
                "update CloudFormation stack",
                &err,
            )),
        }
    }

    async fn update_parameters(
        &self,
        name: &str,
        parameters: &BTreeMap<String, String>,
        client_token: &str,
    ) -> CloudResult<UpdateOutcome> {
        // Every parameter the stack has must be named: the others keep their values.
        let described = self
            .client
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| classify(CFN, "DescribeStacks", "describe CloudFormation stack", &e))?;
        let existing: Vec<String> = described
            .stacks()
            .first()
            .map(|s| {
                s.parameters()
                    .iter()
                    .filter_map(|p| p.parameter_key().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut list: Vec<Parameter> = existing
            .iter()
            .filter(|k| !parameters.contains_key(*k))
            .map(|k| {
                Parameter::builder()
                    .parameter_key(k)
                    .use_previous_value(true)
                    .build()
            })
            .collect();
        list.extend(to_parameters(parameters).unwrap_or_default());
        let result = self
            .client
            .update_stack()
            .stack_name(name)
            .use_previous_template(true)
            .set_capabilities(Some(capabilities()))
            .set_parameters(Some(list))
            .client_request_token(client_token)
            .send()
            .await;
        match result {
            Ok(_) => Ok(UpdateOutcome::Started),
            Err(err) if is_no_updates(err.code(), err.message()) => Ok(UpdateOutcome::NoChanges),
            Err(err) => Err(classify(
                CFN,
                "UpdateStack",
                "update CloudFormation stack parameters",
                &err,
            )),
        }
    }

    async fn delete_stack(&self, name: &str, client_token: &str) -> CloudResult<()> {
        // AWS answers success for a stack that does not exist; an error saying so is also fine.
        match self
            .client
            .delete_stack()
            .stack_name(name)
            .client_request_token(client_token)
            .send()
            .await
        {
            Ok(_) => {
                tracing::debug!(%name, "deleting stack");
                Ok(())
            }
            Err(err) => match classify(CFN, "DeleteStack", "delete CloudFormation stack", &err) {
                err if err.is_not_found() => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn stack_events(&self, name: &str, limit: usize) -> CloudResult<Vec<StackEvent>> {
        let mut events = Vec::new();
        let mut next_token = None;
        // Pages come newest first (100 events each); stop as soon as we have enough.
        while events.len() < limit {
            let out = self
                .client
                .describe_stack_events()
                .stack_name(name)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| {
                    classify(
                        CFN,
                        "DescribeStackEvents",
                        "describe CloudFormation stack events",
                        &e,
                    )
                })?;
            events.extend(out.stack_events().iter().map(|e| {
                StackEvent {
                    logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                    resource_type: e.resource_type().unwrap_or_default().to_owned(),
                    status: e
                        .resource_status()
                        .map(|s| s.as_str().to_owned())
                        .or_else(|| e.hook_status().map(|s| s.as_str().to_owned()))
                        .unwrap_or_default(),
                    reason: e.resource_status_reason().map(str::to_owned),
                }
            }));
            next_token = out.next_token().map(str::to_owned);
            if next_token.is_none() {
                break;
            }
        }
        events.truncate(limit);
        Ok(events)
    }

    async fn list_in_progress(&self) -> CloudResult<BTreeMap<String, String>> {
        let filter: Vec<StackStatus> = IN_PROGRESS_STATUSES
            .iter()
            .map(|s| StackStatus::from(*s))
            .collect();
        let mut found = BTreeMap::new();
        let mut pages = self
            .client
            .list_stacks()
            .set_stack_status_filter(Some(filter))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| classify(CFN, "ListStacks", "list CloudFormation stacks", &e))?;
            for summary in page.stack_summaries() {
                if let (Some(name), Some(status)) = (summary.stack_name(), summary.stack_status()) {
                    found.insert(name.to_owned(), status.as_str().to_owned());
                }
            }
        }
        Ok(found)
    }
}
