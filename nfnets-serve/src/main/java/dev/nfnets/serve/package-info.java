/**
 * {@code nfnets serve}: an HTTP inference server for one NFNet ({@link dev.nfnets.serve.InferenceServer}) with
 * dynamic batching, Prometheus metrics and a web page, plus {@code nfnets serve-bench}, a bounded load
 * generator. Kept out of the library modules so that a user of {@code nfnets-core} never pulls an HTTP server.
 */
package dev.nfnets.serve;
