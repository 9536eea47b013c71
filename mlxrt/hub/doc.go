// Package hub downloads model repositories from the Hugging Face hub into the
// cache layout huggingface_hub uses, so caches are shared with Python tools.
//
// Use [OptionsFromEnv] once at start-up to read HF_ENDPOINT, HF_TOKEN,
// HF_HOME, HF_HUB_CACHE and HF_HUB_OFFLINE, then [Resolve] to turn a repo id
// such as "mlx-community/Qwen3-0.6B-4bit" into a local snapshot directory,
// downloading what is missing. [IsRepoID] tells a repo id from a local path.
//
// Layout (under $HF_HUB_CACHE, default ~/.cache/huggingface/hub):
//
//	models--org--name/blobs/<etag>            file contents (LFS etag = sha256)
//	models--org--name/snapshots/<commit>/<f>  relative symlinks to blobs
//	models--org--name/refs/<revision>          the commit hash
//
// Downloads resume from blobs/<etag>.incomplete with HTTP Range requests, are
// checked against the size and sha256 the hub declares, and are moved into
// place with atomic renames under a per-blob lock file, so concurrent
// processes never see a partial blob. Only the files an LLM needs are
// fetched: config.json, generation_config.json, tokenizer files, chat
// templates and safetensors weights.
//
// This is the only mlxrt package that uses net/http.
package hub
