// nfnets serve web page: upload/drop an image -> top-5 bars; "Use camera" -> frames at a steady rate,
// label and rate drawn over the live video. Plain browser JavaScript, no build step.
"use strict";

const $ = (id) => document.getElementById(id);

async function classify(blob, top) {
  const started = performance.now();
  const res = await fetch(`/v1/classify?top=${top}`, {
    method: "POST",
    headers: { "Content-Type": blob.type || "application/octet-stream" },
    body: blob,
  });
  const body = await res.json();
  if (!res.ok) {
    throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`);
  }
  body.roundTripMs = performance.now() - started;
  return body;
}

function showBars(predictions) {
  const list = $("bars");
  list.replaceChildren();
  for (const p of predictions) {
    const li = document.createElement("li");
    li.className = "bar";
    const name = document.createElement("div");
    name.className = "name";
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = p.label;
    const pct = document.createElement("span");
    pct.className = "pct";
    pct.textContent = (100 * p.probability).toFixed(1) + "%";
    name.append(label, pct);
    const track = document.createElement("div");
    track.className = "track";
    const fill = document.createElement("div");
    fill.className = "fill";
    fill.style.width = (100 * p.probability).toFixed(1) + "%";
    track.append(fill);
    li.append(name, track);
    list.append(li);
  }
}

function setStatus(id, text, isError) {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle("error", !!isError);
}

async function handleFile(file) {
  if (!file) return;
  const preview = $("preview");
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  setStatus("upload-status", `classifying ${file.name}...`);
  try {
    const r = await classify(file, 5);
    showBars(r.predictions);
    setStatus("upload-status", `${file.name}: ${r.predictions[0].label} (${r.model}, ${r.timing_ms.total.toFixed(1)} ms on the server)`);
  } catch (e) {
    $("bars").replaceChildren();
    setStatus("upload-status", `error: ${e.message}`, true);
  }
}

function setUpUpload() {
  const zone = $("drop-zone");
  $("file-input").addEventListener("change", (e) => handleFile(e.target.files[0]));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    handleFile(e.dataTransfer.files[0]);
  });
}

// Camera: one frame in flight at a time, sent on a fixed timer; a tick that finds the previous frame still
// out is skipped, so a slow server lowers the rate instead of queueing frames.
const camera = { stream: null, timer: null, busy: false, done: [], count: 0, label: "", prob: 0 };

function drawOverlay() {
  const video = $("video");
  const canvas = $("overlay");
  canvas.width = video.videoWidth || 640;
  canvas.height = video.videoHeight || 480;
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  const text = camera.label ? `${camera.label} ${(100 * camera.prob).toFixed(0)}%` : "waiting for the first answer";
  const rate = `${currentRate().toFixed(1)} frames/s`;
  g.font = "bold 28px system-ui, sans-serif";
  g.fillStyle = "rgba(0, 0, 0, 0.55)";
  g.fillRect(0, 0, canvas.width, 84);
  g.fillStyle = "#fff";
  g.fillText(text, 14, 36);
  g.font = "20px system-ui, sans-serif";
  g.fillText(rate, 14, 70);
}

// Frames answered per second over the last 8 answers (however slow they are), 0 until two have arrived.
function currentRate() {
  camera.done = camera.done.slice(-8);
  if (camera.done.length < 2) return 0;
  return (camera.done.length - 1) / ((camera.done[camera.done.length - 1] - camera.done[0]) / 1000);
}

async function sendFrame() {
  const video = $("video");
  if (camera.busy || video.videoWidth === 0) return;
  camera.busy = true;
  try {
    const scale = Math.min(1, 320 / Math.max(video.videoWidth, video.videoHeight));
    const frame = document.createElement("canvas");
    frame.width = Math.round(video.videoWidth * scale);
    frame.height = Math.round(video.videoHeight * scale);
    frame.getContext("2d").drawImage(video, 0, 0, frame.width, frame.height);
    const blob = await new Promise((resolve) => frame.toBlob(resolve, "image/jpeg", 0.85));
    const r = await classify(blob, 1);
    if (!camera.stream) return;   // stopped while this frame was out
    camera.label = r.predictions[0].label;
    camera.prob = r.predictions[0].probability;
    camera.done.push(performance.now());
    $("camera-label").textContent = camera.label;
    $("camera-rate").textContent = `${currentRate().toFixed(1)} frames/s`;
    camera.count += 1;
    setStatus("camera-status", `camera on: ${camera.count} frames classified`);
  } catch (e) {
    if (camera.stream) setStatus("camera-status", `error: ${e.message}`, true);
  } finally {
    camera.busy = false;
    if (camera.stream) drawOverlay();
  }
}

async function toggleCamera() {
  const button = $("camera-button");
  if (camera.stream) {
    clearInterval(camera.timer);
    camera.stream.getTracks().forEach((t) => t.stop());
    camera.stream = null;
    $("camera-view").hidden = true;
    button.textContent = "Use camera";
    setStatus("camera-status", "camera off");
    return;
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    setStatus("camera-status", "error: this browser offers no camera here (a camera needs https or localhost)", true);
    return;
  }
  try {
    setStatus("camera-status", "asking for the camera...");
    camera.stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
    $("video").srcObject = camera.stream;
    $("camera-view").hidden = false;
    button.textContent = "Stop camera";
    camera.done = [];
    camera.count = 0;
    const fps = Math.min(30, Math.max(0.5, parseFloat($("camera-fps").value) || 4));
    camera.timer = setInterval(sendFrame, 1000 / fps);
    setStatus("camera-status", "camera on: waiting for frames");
  } catch (e) {
    camera.stream = null;
    setStatus("camera-status", `error: no camera (${e.name}: ${e.message})`, true);
  }
}

async function loadModelInfo() {
  try {
    const res = await fetch("/v1/models");
    const m = (await res.json()).models[0];
    $("model-info").textContent =
      `model ${m.name}: ${m.num_classes} classes, ${m.input_size} px input, ${m.parameters.toLocaleString("en")} parameters, batches of up to ${m.max_batch}`;
  } catch (e) {
    setStatus("model-info", `cannot reach the server: ${e.message}`, true);
  }
}

setUpUpload();
$("camera-button").addEventListener("click", toggleCamera);
loadModelInfo();
