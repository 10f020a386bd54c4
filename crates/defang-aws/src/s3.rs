//! [`ObjectStore`] over the AWS SDK: build contexts in S3, streamed from disk.

mod multipart;

use crate::errors::{S3, classify};
use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use defang_resources::cloud::{CloudError, CloudErrorKind, CloudResult, ObjectStore};
use std::path::Path;

const MIB: u64 = 1024 * 1024;
/// Files above this size go up in parts: a failed part is retried alone, and parts go up in
/// parallel. Below it, one PutObject is fewer calls. (PutObject itself takes up to 5 GiB.)
pub const MULTIPART_THRESHOLD: u64 = 64 * MIB;
/// Part size; S3 allows 5 MiB to 5 GiB per part and 10,000 parts, so huge files get larger parts.
pub const PART_SIZE: u64 = 16 * MIB;
/// Parts uploaded at once. Each streams from the file, so memory stays small either way.
pub const PARALLEL_PARTS: usize = 4;

pub struct S3Adapter {
    client: aws_sdk_s3::Client,
}

impl S3Adapter {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl ObjectStore for S3Adapter {
    async fn object_exists(&self, bucket: &str, key: &str) -> CloudResult<bool> {
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            // HeadObject has no error body: a missing key is a bare 404 (`NotFound`).
            Err(err) => {
                let err = classify(S3, "HeadObject", "check S3 object", &err);
                match err.kind() {
                    CloudErrorKind::NotFound => Ok(false),
                    // S3 answers 403, not 404, for a missing key when the caller may not list
                    // the bucket: say so, or the user hunts for a permission on the object.
                    CloudErrorKind::AccessDenied => Err(err.map_message(|detail| format!(
                        "{detail} (for a missing object S3 answers 403 unless s3:ListBucket is allowed on {bucket})"
                    ))),
                    _ => Err(err),
                }
            }
        }
    }

    async fn put_file(&self, bucket: &str, key: &str, path: &Path) -> CloudResult<()> {
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| CloudError::other(format!("upload {}: {e}", path.display())))?
            .len();
        if size > MULTIPART_THRESHOLD {
            return multipart::upload(&self.client, bucket, key, path, size).await;
        }
        // `from_path` streams the file and can re-open it when the SDK retries.
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| CloudError::other(format!("upload {}: {e}", path.display())))?;
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_length(i64::try_from(size).unwrap_or(i64::MAX))
            .body(body)
            .send()
            .await
            .map_err(|e| classify(S3, "PutObject", "upload S3 object", &e))?;
        tracing::debug!(%bucket, %key, size, "uploaded object");
        Ok(())
    }

    async fn empty_bucket(&self, bucket: &str) -> CloudResult<u64> {
        let mut deleted = 0u64;
        let mut token: Option<String> = None;
        loop {
            // One page of at most 1000 keys, deleted with one DeleteObjects call.
            let page = match self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .set_continuation_token(token.clone())
                .send()
                .await
                .map_err(|e| classify(S3, "ListObjectsV2", "list S3 objects", &e))
            {
                Ok(page) => page,
                Err(e) if e.is_not_found() => return Ok(deleted),
                Err(e) => return Err(e),
            };
            let keys: Vec<aws_sdk_s3::types::ObjectIdentifier> = page
                .contents()
                .iter()
                .filter_map(|o| o.key())
                .filter_map(|k| {
                    aws_sdk_s3::types::ObjectIdentifier::builder()
                        .key(k)
                        .build()
                        .ok()
                })
                .collect();
            if !keys.is_empty() {
                let count = keys.len() as u64;
                let delete = aws_sdk_s3::types::Delete::builder()
                    .set_objects(Some(keys))
                    .quiet(true)
                    .build()
                    .map_err(|e| CloudError::other(format!("delete S3 objects: {e}")))?;
                let out = self
                    .client
                    .delete_objects()
                    .bucket(bucket)
                    .delete(delete)
                    .send()
                    .await
                    .map_err(|e| classify(S3, "DeleteObjects", "delete S3 objects", &e))?;
                if let Some(failed) = out.errors().first() {
                    let err = CloudError::other(format!(
                        "delete S3 object {}: {}",
                        failed.key().unwrap_or_default(),
                        failed.message().unwrap_or_default()
                    ))
                    .in_call(S3, "DeleteObjects");
                    return Err(match failed.code() {
                        Some(code) => err.with_code(code),
                        None => err,
                    });
                }
                deleted += count;
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => return Ok(deleted),
            }
        }
    }
}
