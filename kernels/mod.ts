/**
 * The elmbench tensor engine: build a graph of ONNX primitives with static
 * shapes, differentiate it with one table of gradient rules, emit the
 * optimizer update into the same graph, and run the whole train step as one
 * ONNX Runtime session over a {@linkcode ParamStore}. Beside it, what every
 * floor above builds on: the seeded generator ({@linkcode createRng}), ragged
 * rows ({@linkcode Ragged}), CSR matrices with sparse propagation, and
 * checkpoints (safetensors).
 *
 * This file is the engine's one public face: code outside `kernels/`
 * imports the engine from here (tests and benchmarks may reach its files),
 * and the engine imports nothing of the project outside `kernels/`, npm
 * packages aside (`tests/layers_test.ts`).
 *
 * ```ts
 * import {
 *   adamw,
 *   compileInference,
 *   compileTrainStep,
 *   createRng,
 *   crossEntropy,
 *   Graph,
 *   linear,
 *   ParamStore,
 * } from "./mod.ts";
 *
 * const g = new Graph();
 * const x = g.input("x", "float32", [4, 2]);
 * const y = g.input("y", "int64", [4]);
 * const logits = linear(g.relu(linear(x, "mlp.0", { outFeatures: 8 })), "mlp.1", { outFeatures: 2 });
 * const store = new ParamStore();
 * store.init(g, createRng(0));
 * const step = await compileTrainStep(crossEntropy(logits, y), store, { optimizer: adamw({ lr: 1e-2 }) });
 * const { loss } = await step.run({ x: new Float32Array(8), y: new BigInt64Array(4) });
 * const infer = await compileInference({ logits }, store); // reads the same store
 * ```
 *
 * ## Splitting a step at an external boundary
 *
 * Graph models (LightGCN, ELMRec) propagate embeddings through a fixed sparse
 * matrix `A` with a JS kernel, outside ONNX Runtime. The step splits there:
 *
 * 1. JS computes `P = spmm(A, E0)`.
 * 2. A train step takes `P` as an input listed in `wrt`: it updates the
 *    params it owns and returns `dLoss/dP`.
 * 3. JS computes `dE0 = spmm(A^T, dLoss/dP)`.
 * 4. {@linkcode compileUpdate} applies the optimizer (AdamW here) to `E0`.
 *
 * The result equals one graph holding `P = A E0` (tested in `step_test.ts`
 * against a dense reference).
 *
 * ```ts
 * import {
 *   adamw,
 *   compileTrainStep,
 *   compileUpdate,
 *   createRng,
 *   Graph,
 *   linear,
 *   normal,
 *   ParamStore,
 * } from "./mod.ts";
 *
 * const n = 4, d = 2;
 * const a = new Float32Array(n * n).fill(0.25); // stand-in for a CSR matrix
 * const spmm = (m: Float32Array, x: Float32Array, transpose: boolean) => {
 *   const out = new Float32Array(n * d);
 *   for (let i = 0; i < n; i++) {
 *     for (let j = 0; j < n; j++) {
 *       const v = transpose ? m[j * n + i] : m[i * n + j];
 *       for (let k = 0; k < d; k++) out[i * d + k] += v * x[j * d + k];
 *     }
 *   }
 *   return out;
 * };
 * const store = new ParamStore();
 * store.set("emb.weight", normal({ std: 0.1 })(createRng(0), [n, d]), [n, d]);
 *
 * const g = new Graph();
 * const p = g.input("propagated", "float32", [n, d]);
 * const score = linear(p, "head", { outFeatures: 1 });
 * const loss = g.reduceMean(g.mul(score, score), undefined, false);
 * store.init(g, createRng(1));
 * const optimizer = adamw({ lr: 1e-2 });
 * const step = await compileTrainStep(loss, store, { optimizer, wrt: [p] });
 * const update = await compileUpdate(["emb.weight"], store, { optimizer });
 *
 * const propagated = spmm(a, store.get("emb.weight")!.data, false);
 * const { grads } = await step.run({ propagated });
 * await update.run({ "emb.weight": spmm(a, grads.propagated.data as Float32Array, true) });
 * ```
 *
 * ## What runs outside ONNX Runtime
 *
 * Tensor math runs in ONNX Runtime sessions built from the graphs above.
 * WebAssembly (SIMD, emitted from TypeScript) and JS kernels are for what
 * ONNX Runtime does badly, each tested against a reference and timed by a
 * benchmark: sparse propagation ({@linkcode spmm}, {@linkcode
 * propagateMean}), top-k, sampling, and the optimizer update of embedding
 * tables whose gradients arrive by rows ({@linkcode createTableAdam}: Adam
 * over whole tables, or over the rows a batch touched, in place in the
 * kernels' heap: a dense update of LightGCN's 34,465 x 64 table on Beauty
 * took 13-18 ms of CPU as an ONNX Runtime session and 2.1-2.7 ms here, on
 * one thread). The update of any other param stays in its step graph: the
 * T5 models keep AdamW there.
 *
 * A split step like the one above then keeps its big arrays in the heap
 * ({@linkcode SparseEngine.alloc}): the table and its moments, the
 * propagated table, and both gradients. Products and updates read and
 * write them in place, and only the batch's rows cross into and out of the
 * session (LightGCN's trainer):
 *
 * ```ts
 * import { createSparseEngine, createTableAdam, fromCoo, normalizeSymmetric } from "./mod.ts";
 *
 * const n = 4, d = 4;
 * const a = normalizeSymmetric({ ...fromCoo(n, n, [1, 2], [2, 1], [1, 1]), symmetric: true });
 * const engine = await createSparseEngine({ threads: 1 });
 * const adam = createTableAdam(engine, [{ name: "e0", rows: n, dim: d, gradient: "whole" }], {
 *   lr: 1e-2,
 * });
 * const propagated = engine.alloc(n * d), gradP = engine.alloc(n * d);
 * engine.propagateMean(a, adam.values("e0"), { layers: 2, out: propagated });
 * gradP.set([1, 1, 1, 1], 4); // a session's gradient for row 1, scattered in
 * engine.propagateMeanBackward(a, gradP, { layers: 2, out: adam.grad("e0") });
 * await adam.step();
 * engine.close();
 * ```
 *
 * Exactly one file, `runtime.ts`, imports `onnxruntime-node`, and only
 * when the first session starts: loading the engine (as the harness and
 * the public API do, for the generator) loads no native code.
 *
 * @module
 */

export { createRng, type Rng } from "./rng.ts";
export { type Ragged, row } from "./ragged.ts";
export {
  type Attrs,
  type DType,
  type DTypeArray,
  Graph,
  type HostArray,
  hostArray,
  isFloat,
  type Node,
  OP_TYPES,
  type Operand,
  type OpType,
  type ParamOptions,
  type Shape,
  type Tensor,
  type TensorKind,
} from "./graph.ts";
export { type GradContext, GRADIENTS, type GradRule, reduceToShape } from "./gradients.ts";
export { gradients, type GradientsOptions } from "./autodiff.ts";
export {
  attention,
  type AttentionOptions,
  type CosineOptions,
  cosineSimilarity,
  crossEntropy,
  type CrossEntropyOptions,
  dropout,
  type DropoutOptions,
  embedding,
  type EmbeddingOptions,
  gelu,
  linear,
  type LinearOptions,
  rmsNorm,
  type RmsNormOptions,
  softplus,
  t5Block,
  type T5BlockOptions,
} from "./nn.ts";
export {
  gru,
  type GruOptions,
  layerNorm,
  type LayerNormOptions,
  temporalConv,
  type TemporalConvOptions,
} from "./nn_seq.ts";
export {
  type Initializer,
  normal,
  type NormalOptions,
  ones,
  uniform,
  type UniformOptions,
  xavier,
  type XavierOptions,
  zeros,
} from "./init.ts";
export {
  adam,
  type AdamOptions,
  adamw,
  LR_INPUT,
  type Optimizer,
  sgd,
  type SgdOptions,
  type StateSpec,
} from "./optim.ts";
export {
  exportOnnx,
  type ExportOptions,
  type OnnxModel,
  OPSET,
  prune,
  type ValueInfo,
  writeOnnx,
} from "./onnx_export.ts";
export {
  type Device,
  type HostTensor,
  loadSession,
  type RuntimeOptions,
  Session,
  zerosHost,
} from "./runtime.ts";
export { type DeviceCopy, type ParamEntry, ParamStore } from "./param_store.ts";
export { DROPOUT_SEED, dropoutMask } from "./dropout_mask.ts";
export {
  boundMemory,
  endBoundProfiling,
  releaseStepSessions as releaseSessions,
  usesBoundIo,
} from "./step_runner.ts";
export {
  CUDA_MANIFEST,
  CUDA_PROVIDER,
  type CudaManifest,
  prepareCuda,
  readCudaManifest,
} from "./cuda_provider.ts";
export { type GpuInfo, gpuInfo } from "./cuda_device.ts";
export { openOrtCApi, ortBinaryDir, type OrtCApi } from "./ort_capi.ts";
export { type OpTime, type ProfileSummary, summarizeProfile } from "./ort_profile.ts";
export {
  compileInference,
  compileTrainStep,
  compileUpdate,
  type Feeds,
  gradName,
  type Inference,
  type InferenceOptions,
  type RunOptions,
  type StepResult,
  type TrainStep,
  type TrainStepOptions,
  type Update,
  type UpdateOptions,
} from "./step.ts";
export {
  type Checkpoint,
  loadCheckpoint,
  saveCheckpoint,
  type SaveCheckpointOptions,
} from "./checkpoint.ts";
export {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  type Safetensors,
  type SafetensorsWriteOptions,
  type Tensor as SafetensorsTensor,
  type TensorDtype,
  type TensorMap,
  writeSafetensors,
} from "./safetensors.ts";
export { type CsrMatrix, fromCoo, normalizeSymmetric, transpose } from "./adjacency.ts";
export {
  createSparseEngine,
  propagateMean,
  propagateMeanBackward,
  type PropagateOptions,
  type SparseEngine,
  type SparseEngineOptions,
  spmm,
  type SpmmOptions,
  spmmT,
} from "./spmm.ts";
export {
  type AdamRows,
  createOnnxTableAdam,
  createTableAdam,
  type TableAdam,
  type TableAdamOptions,
  type TableSpec,
} from "./table_adam.ts";
