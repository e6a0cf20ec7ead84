resource "terraform_data" "one" {
  input = { name = "prometheus-aws-dev", port = 9090, tags = ["a", "b"] }
}
resource "terraform_data" "counted" {
  count = 2
  input = "n-${count.index}"
}
resource "terraform_data" "keyed" {
  for_each = toset(["eu-central-1", "us-east-1"])
  input    = each.key
}
output "prometheus_url" { value = "http://example.test:9090" }
output "secret" {
  value     = "s3cret"
  sensitive = true
}
output "list" { value = ["x", "y"] }
