//! Multipart upload of a large file: parts stream from their offset in the file, a few at a
//! time, and a failed upload is aborted so that no parts are left billed in the bucket.

use super::{PARALLEL_PARTS, PART_SIZE};
use crate::errors::{S3, classify};
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use defang_resources::cloud::{CloudError, CloudResult};
use std::path::{Path, PathBuf};
use tokio::task::JoinSet;

/// S3's limit on parts per upload.
const MAX_PARTS: u64 = 10_000;

/// Part size for a file: [`PART_SIZE`], or larger when the file would need too many parts.
pub fn part_size(size: u64) -> u64 {
    PART_SIZE.max(size.div_ceil(MAX_PARTS))
}

pub async fn upload(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    path: &Path,
    size: u64,
) -> CloudResult<()> {
    let created = client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        // Parts carry CRC32 checksums (the SDK computes them while streaming), and S3 checks
        // the whole object against them on completion.
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .map_err(|e| classify(S3, "CreateMultipartUpload", "start S3 multipart upload", &e))?;
    let upload_id = created.upload_id().ok_or_else(|| {
        CloudError::other("start S3 multipart upload: no upload id in the response")
            .in_call(S3, "CreateMultipartUpload")
    })?;
    match upload_parts(client, bucket, key, upload_id, path, size).await {
        Ok(parts) => {
            let completed = client
                .complete_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await;
            match completed {
                Ok(_) => {
                    tracing::debug!(%bucket, %key, size, "uploaded object in parts");
                    Ok(())
                }
                Err(err) => {
                    let err = classify(
                        S3,
                        "CompleteMultipartUpload",
                        "complete S3 multipart upload",
                        &err,
                    );
                    abort(client, bucket, key, upload_id).await;
                    Err(err)
                }
            }
        }
        Err(err) => {
            abort(client, bucket, key, upload_id).await;
            Err(err)
        }
    }
}

async fn upload_parts(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    path: &Path,
    size: u64,
) -> CloudResult<Vec<CompletedPart>> {
    let part_size = part_size(size);
    let count = size.div_ceil(part_size);
    let mut running = JoinSet::new();
    let mut parts = Vec::with_capacity(usize::try_from(count).unwrap_or_default());
    let mut next = 0u64;
    loop {
        while next < count && running.len() < PARALLEL_PARTS {
            let offset = next * part_size;
            let part = Part {
                client: client.clone(),
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                upload_id: upload_id.to_owned(),
                path: path.to_owned(),
                number: i32::try_from(next + 1).unwrap_or(i32::MAX),
                offset,
                length: part_size.min(size - offset),
            };
            running.spawn(part.upload());
            next += 1;
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        // On the first failure, dropping `running` cancels the other parts.
        let part = done.map_err(|e| CloudError::other(format!("upload S3 object part: {e}")))??;
        parts.push(part);
    }
    parts.sort_by_key(|p| p.part_number());
    Ok(parts)
}

struct Part {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    upload_id: String,
    path: PathBuf,
    number: i32,
    offset: u64,
    length: u64,
}

impl Part {
    async fn upload(self) -> CloudResult<CompletedPart> {
        // A stream over this part's byte range only; the SDK re-opens it for a retry.
        let body = ByteStream::read_from()
            .path(&self.path)
            .offset(self.offset)
            .length(Length::Exact(self.length))
            .build()
            .await
            .map_err(|e| CloudError::other(format!("upload {}: {e}", self.path.display())))?;
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .part_number(self.number)
            .content_length(i64::try_from(self.length).unwrap_or(i64::MAX))
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(body)
            .send()
            .await
            .map_err(|e| classify(S3, "UploadPart", "upload S3 object part", &e))?;
        Ok(CompletedPart::builder()
            .part_number(self.number)
            .set_e_tag(out.e_tag().map(str::to_owned))
            .set_checksum_crc32(out.checksum_crc32().map(str::to_owned))
            .build())
    }
}

/// Best effort: the failure that led here is the error to report. A bucket lifecycle rule
/// (AbortIncompleteMultipartUpload) cleans up whatever this misses.
async fn abort(client: &aws_sdk_s3::Client, bucket: &str, key: &str, upload_id: &str) {
    if let Err(err) = client
        .abort_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .send()
        .await
    {
        let err = classify(
            S3,
            "AbortMultipartUpload",
            "abort S3 multipart upload",
            &err,
        );
        tracing::warn!(%bucket, %key, error = %err, "could not abort a failed multipart upload");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sizes_stay_within_s3_limits() {
        const MIB: u64 = 1024 * 1024;
        assert_eq!(part_size(70 * MIB), 16 * MIB);
        // 200 GiB at 16 MiB would be 12,800 parts.
        let huge = 200 * 1024 * MIB;
        assert!(huge.div_ceil(part_size(huge)) <= MAX_PARTS);
        assert!(part_size(huge) >= 5 * MIB);
    }
}
