// Vite build of loupe's web app: relative asset URLs (the server may mount the
// app under any base path, announced by <base href>), plots split into a lazy chunk.
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

export default defineConfig({
  base: "./",
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8765",
      "/artifacts": "http://127.0.0.1:8765",
      "/csv": "http://127.0.0.1:8765",
    },
  },
});
