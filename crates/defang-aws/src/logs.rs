//! [`LogTail`] over the AWS SDK: the last lines of a build's CloudWatch Logs stream.

use crate::errors::{LOGS, classify};
use async_trait::async_trait;
use defang_resources::cloud::{CloudResult, LogTail};

/// GetLogEvents returns at most this many events per call.
const MAX_EVENTS_PER_CALL: usize = 10_000;
/// A page holds at most 1 MB, so a few pages may be needed for `lines`; but a tail is for
/// error messages, and this bounds the calls made for one.
const MAX_PAGES: usize = 5;

pub struct LogsAdapter {
    client: aws_sdk_cloudwatchlogs::Client,
}

impl LogsAdapter {
    pub fn new(client: aws_sdk_cloudwatchlogs::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl LogTail for LogsAdapter {
    async fn tail(&self, group: &str, stream: &str, lines: usize) -> CloudResult<Vec<String>> {
        if lines == 0 {
            return Ok(Vec::new());
        }
        // Pages newest first; each page's events are oldest first.
        let mut pages: Vec<Vec<String>> = Vec::new();
        let mut count = 0;
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let out = match self
                .client
                .get_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .start_from_head(false)
                .limit(i32::try_from((lines - count).min(MAX_EVENTS_PER_CALL)).unwrap_or(i32::MAX))
                .set_next_token(token.clone())
                .send()
                .await
            {
                Ok(out) => out,
                // No group or no stream yet (the build has not started logging): no lines.
                Err(err) => {
                    return match classify(LOGS, "GetLogEvents", "get CloudWatch log events", &err) {
                        err if err.is_not_found() => Ok(Vec::new()),
                        other => Err(other),
                    };
                }
            };
            let page: Vec<String> = out
                .events()
                .iter()
                .filter_map(|e| e.message())
                .map(|m| m.trim_end_matches(['\n', '\r']).to_owned())
                .collect();
            count += page.len();
            let next = out.next_backward_token().map(str::to_owned);
            let exhausted = page.is_empty() || next.is_none() || next == token;
            pages.push(page);
            if exhausted || count >= lines {
                break;
            }
            token = next;
        }
        let mut messages: Vec<String> = pages.into_iter().rev().flatten().collect();
        let excess = messages.len().saturating_sub(lines);
        messages.drain(..excess);
        Ok(messages)
    }
}
