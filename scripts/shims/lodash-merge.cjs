'use strict';
// @darabonba/typescript (under the RAM and IMS SDKs) requires the whole of lodash (~85 KB) for `_.merge`
// alone; the function bundles give it lodash's own single-function module, the same code. Any other `_.x`
// it started using would fail as "not a function" rather than quietly differ.
exports.merge = require('lodash/merge');
