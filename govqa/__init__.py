"""govqa's Python client: `from govqa.client import GovQA` (and `govqa.langchain` for a LangChain retriever)."""
