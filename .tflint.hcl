# tflint on the synthesized *.tf.json (make lint). The AWS ruleset is built
# locally (scripts/install-tools.sh lint) and found through TFLINT_PLUGIN_DIR,
# so no source/version here: nothing is downloaded.
config {
  call_module_type = "none"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "aws" {
  enabled = true
}
