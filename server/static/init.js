// Starts GOV.UK Frontend's JavaScript. Loaded as a module, so only browsers
// GOV.UK Frontend supports run it; every page works without it.
import { initAll } from '/static/govuk/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()
