// Diagrams are rendered with Debian's chromium (scripts/render-diagrams.ts); puppeteer must not
// try to download a browser of its own during npm install, which cannot work on these machines.
module.exports = { skipDownload: true };
